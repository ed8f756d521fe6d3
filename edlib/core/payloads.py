"""Validation of the JSON payloads that requests and events carry.

Every payload that enters the system goes through :func:`validate_payload`. It either
returns a deep, read-only copy that is guaranteed to round-trip through JSON, or raises a
``TypeError``/``ValueError`` that names the problem and where it is, before anything is
stored.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_PAYLOAD_BYTES = 64 * 1024
"""Largest payload accepted, measured as UTF-8 JSON."""

MAX_DEPTH = 16
"""Deepest nesting of lists and dicts accepted."""


class FrozenDict(dict):
    """A dict that refuses changes: event data cannot be edited after creation.

    It is still a ``dict`` (so ``json.dumps`` and ``==`` work as usual).
    """

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this data is read-only: events are immutable; build a new one instead")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only  # type: ignore[assignment]
    __ior__ = _read_only  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(json.dumps(self, sort_keys=True))

    def __reduce__(self) -> tuple:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> "FrozenDict":
        return self

    def __deepcopy__(self, memo: dict) -> "FrozenDict":
        return self


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of frozen data (dicts and lists again)."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _freeze(value: Any, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{where}: string is not valid Unicode text (lone surrogate)") from None
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a number JSON can hold")
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be strings, got {type(k).__name__} {k!r}")
            out[k] = _freeze(v, f"{where}.{k}", depth + 1)
        return FrozenDict(out)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
    raise TypeError(f"{where}: {type(value).__name__} values cannot be sent as JSON")


def validate_payload(data: Any, what: str = "data", *, allow_empty: bool = False,
                     max_bytes: int = MAX_PAYLOAD_BYTES) -> FrozenDict:
    """Check that ``data`` is a JSON object within limits; return a read-only copy.

    Raises ``TypeError`` for None, non-dicts and values JSON cannot hold, and
    ``ValueError`` for an empty dict (unless ``allow_empty``), non-finite numbers,
    invalid text, too deep nesting or more than ``max_bytes`` of JSON.
    """
    if data is None:
        raise TypeError(f"{what} is None: send a dict (a JSON object) with at least one field")
    if not isinstance(data, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(data).__name__}")
    if not data and not allow_empty:
        raise ValueError(f"{what} is empty: send at least one field")
    frozen = _freeze(data, what, 0)
    size = len(json.dumps(frozen, ensure_ascii=False).encode("utf-8"))
    if size > max_bytes:
        raise ValueError(f"{what} is {size:,} bytes of JSON; the limit is {max_bytes:,}")
    return frozen
