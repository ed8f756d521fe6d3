"""Find the learner's answers: named variables in the notebook's namespace.

Inside IPython/Jupyter that is the shell's ``user_ns`` (what cells define); elsewhere
(a script, a test) the globals of the code that called ``check()``.
"""
from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import Any

_PACKAGE = __name__.rsplit(".", 1)[0]
MISSING: Any = object()
"""Returned by :func:`lookup` when a name is not defined."""


def notebook_namespace() -> Mapping[str, Any]:
    """The namespace a learner's cells run in."""
    try:
        from IPython import get_ipython
    except ImportError:
        shell = None
    else:
        shell = get_ipython()
    if shell is not None:
        return shell.user_ns
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_PACKAGE):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def lookup(namespace: Mapping[str, Any], name: str) -> Any:
    """``namespace[name]``, or :data:`MISSING`."""
    try:
        return namespace[name]
    except KeyError:
        return MISSING
