"""Exceptions a check raises to say what it found.

An exercise's checking code raises :class:`Incorrect` with the specific reason, or
:class:`NotAttempted`; :class:`SetupProblem` says the environment is at fault. They
never reach the learner: :meth:`Exercise.evaluate` turns each into a result.
"""
from __future__ import annotations


class CheckSignal(Exception):
    """Base of the verdicts raised inside a check: a message plus optional advice."""

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice


class Incorrect(CheckSignal):
    """The answer is wrong; ``message`` says specifically why."""


class NotAttempted(CheckSignal):
    """The placeholder is still there, or the answer does not exist yet."""


class SetupProblem(CheckSignal):
    """The environment (or the course itself) is broken: not the learner's fault."""


class LearnerError(Exception):
    """The learner's code raised ``error``; ``where`` points at their line."""

    def __init__(self, error: BaseException, where: str, function: str = "") -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error
        self.where = where
        self.function = function
