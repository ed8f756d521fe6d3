"""Benchmarks: ``python -m edlib.bench NAME`` prints one JSON object per line.

Each benchmark is a function registered with :func:`benchmark`; it returns a dict (or a
list of dicts), measured in one run so that the figures compared are side by side.
Notebooks may call the same functions to show live numbers.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

BENCHMARKS: dict[str, Callable[[], Any]] = {}


def benchmark(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register ``fn`` as ``python -m edlib.bench NAME``."""
    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        BENCHMARKS[name] = fn
        return fn
    return register
