"""Point at the learner's own line in a traceback, without file paths.

A frame is the learner's when its code does not come from a library: not from edlib,
not from Python's standard library or installed packages, and not from a module that
defines exercises. Notebook cells (``/tmp/ipykernel_.../123.py``, ``<ipython-input-...>``)
and code run with ``exec`` (``<string>``) are the learner's. The line is shown by its
number within the cell and its text, read from ``linecache`` where IPython keeps cells.
"""
from __future__ import annotations

import linecache
import os
import sys
import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

_AUTHOR_FILES: set[str] = set()
"""Files of modules that define exercises: their frames are the course's, not the learner's."""


def add_author_file(filename: str) -> None:
    """Count frames from ``filename`` as the course's code, never the learner's."""
    if filename:
        _AUTHOR_FILES.add(os.path.realpath(filename))


def _library_roots() -> tuple[str, ...]:
    roots = {str(Path(__file__).resolve().parent.parent)}  # the edlib package
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib")))
    return tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots))


_ROOTS = _library_roots()


def is_learner_file(filename: str) -> bool:
    """Is ``filename`` (a code object's ``co_filename``) the learner's code?"""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    real = os.path.realpath(filename)
    if real in _AUTHOR_FILES:
        return False
    return not any(real.startswith(root) for root in _ROOTS)


def learner_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    """The learner's frames of ``tb``, outermost first."""
    return [f for f in traceback.extract_tb(tb) if is_learner_file(f.filename)]


def describe_frame(frame: traceback.FrameSummary) -> str:
    """``in ship(), line 3 of its cell: total = event.data['amount']`` (no file path)."""
    where = "at the top of the cell" if frame.name == "<module>" else f"in {frame.name}()"
    text = (linecache.getline(frame.filename, frame.lineno or 0) or frame.line or "").strip()
    line = f"{where}, line {frame.lineno} of its cell"
    return f"{line}: {text}" if text else line


def learner_location(error: BaseException) -> str:
    """Describe the innermost learner line in ``error``'s traceback ('' if none)."""
    frames = learner_frames(error.__traceback__)
    return describe_frame(frames[-1]) if frames else ""
