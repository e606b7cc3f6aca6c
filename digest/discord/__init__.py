"""digest.discord."""
