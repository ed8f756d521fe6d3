"""Which exercises are done, in this notebook and in the whole course.

An exercise is *done* once its check has said CORRECT. This kernel's results come from
the registry; results of earlier sessions come from a small JSON file, so progress
survives a kernel restart. The file is ``~/.edlib/progress.json`` unless the
environment variable :data:`ENV_VAR` names another one (tests and notebook runs point
it at a temporary file; ``EDLIB_PROGRESS=off`` keeps progress in memory only).
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
from pathlib import Path

from edlib.exercises import registry
from edlib.exercises.display import show
from edlib.exercises.outcome import Outcome
from edlib.exercises.render import Panel
from edlib.exercises.result import _Shown
from edlib.exercises.setup_check import current_notebook

Exercise = registry.Exercise

ENV_VAR = "EDLIB_PROGRESS"
"""Names the progress file; ``off`` (or empty) keeps progress in memory only."""

FORMAT_VERSION = 1
_MODULE = re.compile(r"^nb(\d+)$")
_notes: dict[str, str] = {}


def store_path() -> Path | None:
    """Where progress is kept (None: not kept between kernels)."""
    raw = os.environ.get(ENV_VAR)
    if raw is None:
        return Path.home() / ".edlib" / "progress.json"
    if raw.strip().lower() in ("", "off", "none", "memory"):
        return None
    return Path(raw).expanduser()


def done_keys() -> set[str]:
    """Keys of the exercises stored as done (an unreadable file counts as empty)."""
    path = store_path()
    if path is None or not path.exists():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k) for k in data.get("done", [])}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        _notes["read"] = f"the progress file could not be read ({type(exc).__name__}); starting afresh."
        return set()


def remember(key: str) -> None:
    """Store exercise ``key`` as done. Never raises: progress is a convenience."""
    path = store_path()
    if path is None:
        return
    try:
        done = done_keys() | {key}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": FORMAT_VERSION, "done": sorted(done)}, indent=1) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        _notes["write"] = f"progress could not be saved ({type(exc).__name__}); it is kept in this kernel only."


def course_exercises() -> list["Exercise"]:
    """Every exercise of the course: the ``nbNN`` modules of :mod:`edlib.exercises.checks`, plus any registered."""
    checks = f"{__package__}.checks"
    for info in pkgutil.iter_modules(importlib.import_module(checks).__path__):
        if _MODULE.match(info.name):
            try:
                importlib.import_module(f"{checks}.{info.name}")
            except Exception as exc:
                _notes[info.name] = (f"the exercises of notebook {info.name[2:]} could not be loaded "
                                     f"({type(exc).__name__}).")
    return registry.exercises()


def status(exercise: "Exercise", stored: set[str]) -> str:
    """``done``, ``done earlier``, ``incorrect``, ``not attempted``, ``not checked``..."""
    result = registry.last_result(exercise)
    if result is not None and result.outcome is Outcome.CORRECT:
        return "done"
    if exercise.key in stored:
        return "done earlier"
    return "not checked" if result is None else result.outcome.label.lower()


class ProgressView(_Shown):
    """This notebook's exercises with their status, then the course, notebook by notebook."""

    def __init__(self, notebook: str | None, exercises: list["Exercise"], stored: set[str],
                 notes: list[str], course: bool = True) -> None:
        self.notebook, self.exercises, self.stored, self.notes = notebook, exercises, stored, notes
        self.course = course

    def panels(self) -> list[Panel]:
        """The notebook's panel (if a notebook is known), then the course's (unless left out)."""
        panels = []
        if self.notebook is not None:
            mine = [e for e in self.exercises if e.notebook == self.notebook]
            rows = [(e.name, status(e, self.stored), e.title) for e in mine]
            done = sum(r[1].startswith("done") for r in rows)
            panels.append(Panel(f"Progress · notebook {self.notebook}: {done} of {len(rows)} done", (),
                                color="#1565c0", css="edlib-progress",
                                table=(("exercise", "status", "about"),) + tuple(rows) if rows else ()))
        if not self.course and panels:
            return panels
        by_notebook: dict[str, list[Exercise]] = {}
        for e in self.exercises:
            by_notebook.setdefault(e.notebook, []).append(e)
        rows, total_done = [], 0
        for nb in sorted(by_notebook):
            marks = [(e.name, status(e, self.stored).startswith("done")) for e in by_notebook[nb]]
            n_done = sum(d for _, d in marks)
            total_done += n_done
            rows.append((nb, f"{n_done} of {len(marks)}", " ".join(f"{n} ✓" if d else n for n, d in marks)))
        panels.append(Panel(f"Course: {total_done} of {len(self.exercises)} exercises done",
                            tuple(self.notes), color="#1565c0", css="edlib-progress",
                            table=(("notebook", "done", "exercises"),) + tuple(rows) if rows else ()))
        return panels

    def panel(self) -> Panel:
        return self.panels()[-1]

    def text(self) -> str:
        return "\n\n".join(p.text() for p in self.panels())

    def _repr_html_(self) -> str:
        return "\n".join(p.html() for p in self.panels())

    def _repr_markdown_(self) -> str:
        return "\n".join(p.markdown() for p in self.panels())


def progress_view(notebook: str | None = None, course: bool = True) -> ProgressView:
    """The progress of ``notebook`` (default: the one given to ``setup``) and of the course."""
    exercises = course_exercises() if course else registry.exercises()
    stored = done_keys()
    return ProgressView(notebook if notebook is not None else current_notebook(), exercises, stored,
                        [_notes[k] for k in sorted(_notes)], course)


def progress(notebook: str | None = None, course: bool = True) -> None:
    """Show which exercises of this notebook (and, with ``course``, of the whole course) are done."""
    show(progress_view(notebook, course))
