"""Tests of the pure feedback core (digest.feedback)."""
