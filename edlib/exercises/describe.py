"""Short, deterministic descriptions of learner values for messages.

Messages must read the same on every run, so they never contain memory addresses
(``<object at 0x7f...>``), and long values are cut.
"""
from __future__ import annotations

import re
import types
from typing import Any

MAX_CHARS = 80
"""Longest description of a value."""

_ADDRESS = re.compile(r"\s+at 0x[0-9a-fA-F]+|0x[0-9a-fA-F]{6,}")


def sanitize(text: str, limit: int = 300) -> str:
    """Remove memory addresses from ``text`` and cut it to ``limit`` characters."""
    text = _ADDRESS.sub("", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: Any) -> str:
    """``str``, ``dict``, ``function``, ``World`` ... (``None`` for None)."""
    if value is None:
        return "None"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return "function"
    return type(value).__name__


def describe(value: Any, limit: int = MAX_CHARS) -> str:
    """A short readable form of ``value``: ``3``, ``'abc'``, ``a dict {'a': 1}``, ``function f``."""
    if value is None or isinstance(value, (bool, int, float, complex)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."
    if isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return f"function {getattr(value, '__name__', '?')}"
    if isinstance(value, type):
        return f"class {value.__name__}"
    if isinstance(value, (set, frozenset)):
        try:
            shown = "{" + ", ".join(repr(v) for v in sorted(value)) + "}" if value else "set()"
        except Exception:
            shown = f"{len(value)} items"
        return f"a {type(value).__name__} {sanitize(shown, limit)}"
    try:
        shown = sanitize(repr(value), limit)
    except Exception:  # a repr that fails says nothing useful
        return f"a {type(value).__name__} object"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} {shown}"
    return shown if shown and not shown.startswith("<") else f"a {type(value).__name__} object"


def short(value: Any, limit: int = MAX_CHARS) -> str:
    """``repr(value)`` without addresses, cut to ``limit`` characters (never raises)."""
    try:
        return sanitize(repr(value), limit)
    except Exception:
        return f"<{type(value).__name__}>"


def described(value: Any, limit: int = MAX_CHARS) -> str:
    """:func:`describe` plus the type, with its article: ``'42' (a str)``, ``3 (an int)``, ``None``."""
    shown = describe(value, limit)
    if value is None or shown.startswith(("function ", "class ", "a ")):
        return shown
    name = type_name(value)
    return f"{shown} ({'an' if name[:1].lower() in 'aeiou' else 'a'} {name})"
