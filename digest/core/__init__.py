"""digest.core."""
