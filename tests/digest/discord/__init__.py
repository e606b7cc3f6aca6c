"""tests.digest.discord."""
