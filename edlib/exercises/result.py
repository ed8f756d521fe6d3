"""What a check, a hint or a solution shows: plain, deterministic value objects.

Each has a plain-text ``repr`` and rich ``_repr_html_`` / ``_repr_markdown_`` forms, so
the same object reads well in a terminal, in JupyterLab and in a saved notebook.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edlib.exercises.outcome import Outcome
from edlib.exercises.render import Panel


class _Shown:
    """Mixin: render through :meth:`panel` in every form."""

    def panel(self) -> Panel:  # pragma: no cover - overridden
        raise NotImplementedError

    def text(self) -> str:
        """The plain-text form."""
        return self.panel().text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.panel().html()

    def _repr_markdown_(self) -> str:
        return self.panel().markdown()


@dataclass(frozen=True, repr=False)
class Result(_Shown):
    """The verdict of one check: outcome, a message, and optional detail lines.

    ``where`` is the learner's line a failure points at (``line 3 of its cell: ...``).
    """

    exercise: str
    outcome: Outcome
    message: str
    where: str = ""
    advice: str = ""

    @property
    def correct(self) -> bool:
        """True when the answer is correct."""
        return self.outcome is Outcome.CORRECT

    def panel(self) -> Panel:
        paragraphs = tuple(p for p in (self.message, self.where, self.advice) if p)
        return Panel(f"{self.exercise} · {self.outcome.label}", paragraphs, color=self.outcome.color,
                     css=f"edlib-check edlib-{self.outcome.value.lower().replace('_', '-')}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the validation harness reads)."""
        return {"exercise": self.exercise, "outcome": self.outcome.value, "message": self.message,
                "where": self.where, "advice": self.advice}


@dataclass(frozen=True, repr=False)
class HintView(_Shown):
    """Hint ``level`` of ``total`` for one exercise."""

    exercise: str
    level: int
    total: int
    hint: str
    note: str = ""

    def panel(self) -> Panel:
        if self.total == 0:
            return Panel(f"{self.exercise} · Hint", (self.hint,), color="#1565c0", css="edlib-hint")
        paragraphs = (self.hint, self.note) if self.note else (self.hint,)
        return Panel(f"{self.exercise} · Hint {self.level} of {self.total}", paragraphs,
                     color="#1565c0", css="edlib-hint")


@dataclass(frozen=True, repr=False)
class SolutionView(_Shown):
    """The reference solution: the code that would replace the exercise cell, and why."""

    exercise: str
    code: str
    explanation: str = ""

    def panel(self) -> Panel:
        paragraphs = (self.explanation,) if self.explanation else ()
        return Panel(f"{self.exercise} · Solution", paragraphs, code=self.code, color="#2e7d32",
                     css="edlib-solution")
