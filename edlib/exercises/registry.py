"""Every exercise defined in this kernel, and the last result of each.

Exercises register themselves when created; each check records its result here. The
progress view reads it, and so does the validation harness, through :func:`report`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from edlib.exercises.result import Result


@runtime_checkable
class Exercise(Protocol):
    """What the registry and the progress view need of an exercise (:class:`edlib.exercises.Exercise` has it)."""

    @property
    def key(self) -> str: ...
    @property
    def notebook(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def solution_code(self) -> str: ...
    @property
    def wrong_answers(self) -> Sequence[Any]: ...

_EXERCISES: dict[str, "Exercise"] = {}
_RESULTS: dict[str, Result] = {}


def register(exercise: "Exercise") -> None:
    """Know ``exercise`` by its key (a module imported again replaces its exercises)."""
    _EXERCISES[exercise.key] = exercise


def record(exercise: "Exercise", result: Result) -> None:
    """Remember ``result`` as the latest check of ``exercise``."""
    _RESULTS[exercise.key] = result


def exercises(notebook: str | None = None) -> list["Exercise"]:
    """Registered exercises (of one notebook), ordered by notebook then name."""
    found = [e for e in _EXERCISES.values() if notebook is None or e.notebook == notebook]
    return sorted(found, key=lambda e: (e.notebook, _natural(e.name)))


def last_result(exercise: "Exercise | str") -> Result | None:
    """The latest result of an exercise (or key) in this kernel, or None."""
    key = exercise if isinstance(exercise, str) else exercise.key
    return _RESULTS.get(key)


def forget_results() -> None:
    """Forget every recorded result (exercises stay registered)."""
    _RESULTS.clear()


def report(names: list[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """What the validation harness needs about the exercises bound to ``names``.

    For each name: the exercise's key and kind, its reference solution, its typical
    wrong answers, and the last result of its check in this kernel.
    """
    out: dict[str, Any] = {}
    for name in names:
        ex = namespace.get(name)
        if not isinstance(ex, Exercise):
            out[name] = {"error": f"{name!r} is not an exercise here (it is {type(ex).__name__})"}
            continue
        last = _RESULTS.get(ex.key)
        try:
            solution = ex.solution_code
            wrong = [w.to_dict() for w in ex.wrong_answers]
        except Exception as exc:  # a broken exercise must show up in the report, not hang it
            out[name] = {"error": f"{ex.key}: cannot give its solution or wrong answers: "
                                  f"{type(exc).__name__}: {exc}"}
            continue
        out[name] = {"key": ex.key, "kind": ex.kind, "solution": solution, "wrong": wrong,
                     "result": None if last is None else last.to_dict()}
    return out


def _natural(name: str) -> tuple:
    digits = "".join(c for c in name if c.isdigit())
    return (name.rstrip("0123456789"), int(digits) if digits else 0, name)
