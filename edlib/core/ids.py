"""Id factories: deterministic by default, real uuids on request.

A notebook that prints ids must print the same ids on every run, or its stored output
cannot be checked. So edlib never calls ``uuid.uuid4()`` behind your back: every id
comes from a factory you can swap.
"""
from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable
from typing import Protocol


class IdFactory(Protocol):
    """Anything that returns a new id each time it is called with a prefix."""

    def __call__(self, prefix: str) -> str: ...


class SequentialIds:
    """Readable ids counted per prefix: ``order-1``, ``order-2``, ``evt-1`` ...

    The default in notebooks: short, deterministic, and they tell you how many of each
    kind exist.
    """

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count] = {}

    def __call__(self, prefix: str) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(1))
        return f"{prefix}-{next(counter)}"


class SeededUuids:
    """uuid4-shaped ids drawn from a seeded generator: they look real, repeat exactly."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}-{uuid.UUID(int=self._rng.getrandbits(128), version=4)}"


class RandomUuids:
    """Real random uuid4 ids, as production code uses: different on every run."""

    def __call__(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4()}"


def make_ids(kind: str = "sequential", seed: int = 0) -> Callable[[str], str]:
    """Return an id factory by name: ``"sequential"``, ``"seeded-uuid"`` or ``"uuid"``."""
    factories: dict[str, Callable[[], Callable[[str], str]]] = {
        "sequential": SequentialIds,
        "seeded-uuid": lambda: SeededUuids(seed),
        "uuid": RandomUuids,
    }
    if kind not in factories:
        raise ValueError(f"unknown id kind {kind!r}; choose one of {sorted(factories)}")
    return factories[kind]()
