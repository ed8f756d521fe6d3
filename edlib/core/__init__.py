"""edlib.core."""
