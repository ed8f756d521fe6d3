"""edlib.patterns."""
