"""Pure statistics for the queueing simulation: percentiles, standard errors, relative errors.

Nothing here knows about stations or runs: each function takes plain numbers, so the
notebooks can apply them to any list of measurements.
"""
from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float, presorted: bool = False) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation between order statistics.

    NaN for no values; ``presorted=True`` skips sorting values already in order.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"p is between 0 and 100, got {p!r}")
    data = list(values) if presorted else sorted(values)
    if not data:
        return math.nan
    k = (len(data) - 1) * p / 100.0
    lo = math.floor(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def standard_error(values: Sequence[float], batches: int | None = None) -> float:
    """Standard error of the mean of ``values``.

    Without ``batches`` the values are taken as independent (one per seeded run, say).
    Successive requests in one run are not independent (a long queue delays many in a
    row), so pass ``batches``: the values are cut, in order, into that many consecutive
    batches, and the spread of the batch means gives the error (the batch-means method).
    """
    data = list(values)
    if batches is not None:
        if not isinstance(batches, int) or batches < 2:
            raise ValueError(f"batches must be an int >= 2, got {batches!r}")
        size = len(data) // batches
        if size < 1:
            return math.nan
        data = [sum(data[i * size:(i + 1) * size]) / size for i in range(batches)]
    if len(data) < 2:
        return math.nan
    mean = sum(data) / len(data)
    return math.sqrt(sum((x - mean) ** 2 for x in data) / (len(data) - 1) / len(data))


def relative_error(measured: float, expected: float) -> float:
    """``|measured - expected| / expected``."""
    return abs(measured - expected) / abs(expected)
