"""edlib.course."""
