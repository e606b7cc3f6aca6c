"""Tests of the running service (digest.runtime)."""
