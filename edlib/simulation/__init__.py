"""edlib.simulation."""
