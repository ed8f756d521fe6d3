"""The six things a check can say, each distinct and stable.

``NOT_ATTEMPTED``, ``INCORRECT``, ``RAISED``, ``TIMEOUT`` and ``CORRECT`` are about the
learner's answer; ``SETUP_PROBLEM`` says plainly that the environment (or the course's
own check) is at fault, not the learner.
"""
from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    """The verdict of one check. The value is a stable name, used in JSON and tests."""

    NOT_ATTEMPTED = "NOT_ATTEMPTED"
    INCORRECT = "INCORRECT"
    RAISED = "RAISED"
    TIMEOUT = "TIMEOUT"
    CORRECT = "CORRECT"
    SETUP_PROBLEM = "SETUP_PROBLEM"

    @property
    def label(self) -> str:
        """The words a learner reads, such as ``YOUR CODE RAISED``."""
        return _LABELS[self]

    @property
    def color(self) -> str:
        """The accent colour of the rich form."""
        return _COLORS[self]

    def __str__(self) -> str:
        return self.value


_LABELS = {
    Outcome.NOT_ATTEMPTED: "NOT ATTEMPTED",
    Outcome.INCORRECT: "INCORRECT",
    Outcome.RAISED: "YOUR CODE RAISED",
    Outcome.TIMEOUT: "TOOK TOO LONG",
    Outcome.CORRECT: "CORRECT",
    Outcome.SETUP_PROBLEM: "SETUP PROBLEM (not your answer)",
}

_COLORS = {
    Outcome.NOT_ATTEMPTED: "#1565c0",
    Outcome.INCORRECT: "#c62828",
    Outcome.RAISED: "#c62828",
    Outcome.TIMEOUT: "#ef6c00",
    Outcome.CORRECT: "#2e7d32",
    Outcome.SETUP_PROBLEM: "#6a1b9a",
}
