"""Strict nbval settings for `python -m pytest notebooks/`: the same as `make notebooks`."""
from edlib.execute import prepare_environment

prepare_environment()
