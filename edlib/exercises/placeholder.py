"""The placeholder ``____`` that a learner replaces with an answer.

An exercise cell ships with ``____`` where the answer goes. As long as it is there, a
check says *not attempted* instead of *incorrect*: ``answer = ____`` leaves the value,
``def ship(event, db): ____`` leaves the name in the function's code.
"""
from __future__ import annotations

import types
from typing import Any

PLACEHOLDER_NAME = "____"
"""The name learners see and replace."""


class Placeholder:
    """The type of ``____``: one shared, harmless object that prints as ``____``."""

    _instance: "Placeholder | None" = None

    def __new__(cls) -> "Placeholder":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return PLACEHOLDER_NAME

    def _ipython_display_(self) -> None:
        """Show nothing when ``____`` ends a cell: it is a gap to fill, not a value."""

    def __bool__(self) -> bool:
        return False

    def __copy__(self) -> "Placeholder":
        return self

    def __deepcopy__(self, memo: dict) -> "Placeholder":
        return self

    def __reduce__(self) -> str:
        return "____"


____ = Placeholder()
"""Replace me with your answer."""


def contains_placeholder(value: Any, _depth: int = 0) -> bool:
    """Is ``value`` the placeholder, or a list/tuple/set/dict holding it (at any depth)?"""
    if value is ____:
        return True
    if _depth > 20:
        return False
    try:
        if isinstance(value, dict):
            items = list(value.keys()) + list(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)
        else:
            return False
    except Exception:  # an odd container that cannot be iterated: not ours to judge here
        return False
    return any(contains_placeholder(v, _depth + 1) for v in items)


def code_uses_placeholder(fn: Any) -> bool:
    """Does the code of function ``fn`` (or of any function nested in it) mention ``____``?"""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None and callable(fn):
        # the code of a callable object is that of its __call__ method (not a callability test)
        code = getattr(getattr(fn, "__call__", None), "__code__", None)  # noqa: B004
    return code is not None and _mentions(code)


def _mentions(code: types.CodeType) -> bool:
    if PLACEHOLDER_NAME in code.co_names or PLACEHOLDER_NAME in code.co_varnames:
        return True
    return any(isinstance(c, types.CodeType) and _mentions(c) for c in code.co_consts)
