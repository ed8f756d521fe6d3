"""edlib.runtime."""
