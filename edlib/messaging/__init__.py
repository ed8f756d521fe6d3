"""edlib.messaging."""
