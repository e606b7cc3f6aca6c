"""A local Matrix Client-Server API double (see server.py)."""

from tests.digest.matrix.double.server import MatrixDouble

__all__ = ["MatrixDouble"]
