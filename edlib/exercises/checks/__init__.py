"""edlib.exercises.checks."""
