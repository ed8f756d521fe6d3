"""The exercise: ``check()``, ``hint()``, ``solution()``, for a cell the learner writes.

An :class:`Exercise` knows where the learner's answer lives (a variable name in the
notebook), how to judge it, its hints, its reference solution (the code that would
replace the exercise cell) and its typical wrong answers (with the message each must
produce). Subclasses (:mod:`.value`, :mod:`.function`, :mod:`.predict`, :mod:`.system`)
say how to judge one kind of answer; this class turns whatever happens while judging
into one of the distinct outcomes, within a time limit, and records it.
"""
from __future__ import annotations

import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edlib.exercises import progress, registry
from edlib.exercises.blame import add_author_file, learner_location
from edlib.exercises.display import show
from edlib.exercises.errors import Incorrect, LearnerError, NotAttempted, SetupProblem
from edlib.exercises.guard import Guard, exception_text
from edlib.exercises.namespace import MISSING, lookup, notebook_namespace
from edlib.exercises.outcome import Outcome
from edlib.exercises.placeholder import PLACEHOLDER_NAME, contains_placeholder
from edlib.exercises.result import HintView, Result, SolutionView
from edlib.exercises.setup_check import setup_problem
from edlib.exercises.timelimit import TookTooLong, time_limit

DEFAULT_TIME_LIMIT = 3.0
"""Seconds a check may take before the learner's code is stopped."""

AGAIN = "Fix the exercise cell, run it, then run this check again."


@dataclass(frozen=True)
class WrongAnswer:
    """A typical wrong answer: code for the exercise cell, and what its check must say.

    ``message`` must appear in the check's message; ``outcome`` is INCORRECT unless the
    typical mistake is code that raises (RAISED) or never ends (TIMEOUT).
    """

    code: str
    message: str
    outcome: Outcome = Outcome.INCORRECT

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"code": self.code, "message": self.message, "outcome": self.outcome.value}


class Exercise:
    """Base class: one exercise of one notebook.

    ``notebook``: its notebook's number (``"02"``); ``name``: the name learners call it
    by (``"q1"``); ``variable``: the name the learner's answer is bound to; ``hints``:
    from gentle to explicit; ``solution``: the reference code for the exercise cell;
    ``wrong``: typical wrong answers; ``explanation``: shown with the solution and after
    a correct answer; ``time_limit``: seconds before the learner's code is stopped.
    """

    kind = "exercise"

    def __init__(self, *, notebook: str, name: str, title: str, variable: str,
                 hints: Sequence[str] = (), solution: str | None = None,
                 wrong: Sequence[WrongAnswer] = (), explanation: str = "",
                 time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        self.notebook = str(notebook)
        self.name = name
        self.title = title
        self.variable = variable
        self.hints = tuple(hints)
        self._solution = solution
        self._wrong = tuple(wrong)
        self.explanation = explanation
        self.time_limit = time_limit
        self._hint_level = 0
        author = _author_globals()
        self.module = str(author.get("__name__", ""))
        add_author_file(str(author.get("__file__", "")))
        registry.register(self)

    # -- what the course knows about the exercise -----------------------------------
    @property
    def key(self) -> str:
        """``"02.q1"``: notebook and name, unique in the course."""
        return f"{self.notebook}.{self.name}"

    @property
    def solution_code(self) -> str:
        """The reference solution: the code that would replace the exercise cell."""
        if self._solution is None:
            raise NotImplementedError(f"{self.key} has no reference solution")
        return self._solution

    @property
    def wrong_answers(self) -> list[WrongAnswer]:
        """Typical wrong answers, each with the message its check must produce."""
        return list(self._wrong)

    # -- what the learner calls ---------------------------------------------------------
    def check(self) -> None:
        """Check the learner's answer and show the verdict."""
        show(self.evaluate(notebook_namespace()))

    def hint(self, level: int | None = None) -> None:
        """Show the next hint (or hint number ``level``)."""
        show(self.hint_view(level))

    def solution(self) -> None:
        """Show the reference solution and why it works."""
        show(self.solution_view())

    # -- the same, as values -----------------------------------------------------------
    def evaluate(self, namespace: Mapping[str, Any] | None = None) -> Result:
        """Judge the answer found in ``namespace`` (default: the notebook's); record it."""
        ns = notebook_namespace() if namespace is None else namespace
        result = self._judge(ns)
        registry.record(self, result)
        if result.outcome is Outcome.CORRECT:
            progress.remember(self.key)
        return result

    def hint_view(self, level: int | None = None) -> HintView:
        """Hint ``level`` (default: the one after the last shown) as a value."""
        total = len(self.hints)
        if total == 0:
            return HintView(self.name, 0, 0, f"No hints for this one: `{self.name}.solution()` shows the answer.")
        if level is None:
            level = min(self._hint_level + 1, total)
        elif not isinstance(level, int) or not 1 <= level <= total:
            return HintView(self.name, 0, 0, f"{self.name} has hints 1 to {total}: try `{self.name}.hint(1)`.")
        self._hint_level = level
        note = (f"That was the last hint: `{self.name}.solution()` shows a solution." if level == total
                else f"`{self.name}.hint()` again for the next hint.")
        return HintView(self.name, level, total, self.hints[level - 1], note)

    def solution_view(self) -> SolutionView:
        """The reference solution as a value."""
        return SolutionView(self.name, self.solution_code, self.explanation)

    # -- judging ------------------------------------------------------------------------
    def judge(self, namespace: Mapping[str, Any], guard: Guard) -> str:
        """Subclasses: judge the answer; return a note for CORRECT or raise a verdict."""
        raise NotImplementedError

    def answer(self, namespace: Mapping[str, Any]) -> Any:
        """The learner's value of :attr:`variable`; NotAttempted if missing or still ``____``."""
        value = lookup(namespace, self.variable)
        if value is MISSING:
            raise NotAttempted(f"`{self.variable}` is not defined yet: put your answer in place of "
                               f"{PLACEHOLDER_NAME} in the exercise cell, run that cell, then this check.")
        if contains_placeholder(value):
            raise NotAttempted(f"`{self.variable}` still holds {PLACEHOLDER_NAME}: replace it with your answer "
                               f"in the exercise cell, run that cell, then this check.",
                               f"Stuck? `{self.name}.hint()` gives a hint.")
        return value

    def _judge(self, ns: Mapping[str, Any]) -> Result:
        problem = setup_problem()
        if problem:
            return self._result(Outcome.SETUP_PROBLEM, problem, advice="Fix the setup first (see the first cell).")
        guard = Guard()
        limit = None
        try:
            with time_limit(self.time_limit) as limit:
                note = self.judge(ns, guard)
                guard.raise_problem()
        except TookTooLong:
            return self._timeout()
        except (Exception, SystemExit) as exc:
            if limit is not None and limit.fired:
                return self._timeout()
            return self._verdict(exc, guard)
        if limit is not None and limit.fired:
            return self._timeout()
        return self._result(Outcome.CORRECT, note or "Well done.", advice=self.explanation)

    def _verdict(self, exc: BaseException, guard: Guard) -> Result:
        root = guard.problem  # the learner's code failed earlier: that is the cause to report
        if root is not None and not isinstance(exc, (NotAttempted, SetupProblem)):
            exc = root
        if isinstance(exc, NotAttempted):
            return self._result(Outcome.NOT_ATTEMPTED, exc.message, advice=exc.advice)
        if isinstance(exc, Incorrect):
            return self._result(Outcome.INCORRECT, exc.message,
                                advice=exc.advice or f"`{self.name}.hint()` gives a hint.")
        if isinstance(exc, SetupProblem):
            return self._result(Outcome.SETUP_PROBLEM, exc.message, advice=exc.advice)
        if isinstance(exc, LearnerError):
            return self._raised(exc.error, exc.where)
        where = learner_location(exc)
        if where:
            return self._raised(exc, where)
        return self._result(Outcome.SETUP_PROBLEM,
                            f"the check itself failed ({exception_text(exc)}). This is a problem with the "
                            "course or its installation, not with your answer.",
                            advice="Restart the kernel and run the notebook from the top; if it happens again, "
                                   "please report it.")

    def _raised(self, error: BaseException, where: str) -> Result:
        return self._result(Outcome.RAISED, exception_text(error),
                            where=where or "(in code your answer called)", advice=AGAIN)

    def _timeout(self) -> Result:
        return self._result(Outcome.TIMEOUT,
                            f"checking `{self.variable}` took longer than {self.time_limit:g} s, so your code "
                            "was stopped. Is there an endless loop, or a wait for something that never happens?",
                            advice="The kernel is fine. " + AGAIN)

    def _result(self, outcome: Outcome, message: str, where: str = "", advice: str = "") -> Result:
        return Result(self.name, outcome, message, where, advice)

    def __repr__(self) -> str:
        return (f"{self.name} ({self.kind} exercise of notebook {self.notebook}): {self.title}\n"
                f"Use {self.name}.check(), {self.name}.hint(), {self.name}.solution().")


def _author_globals() -> dict[str, Any]:
    """Globals of the module that creates an exercise (the first frame outside this package)."""
    package = __name__.rsplit(".", 1)[0]
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(package + "."):
        if str(frame.f_globals.get("__name__", "")).startswith(package + ".checks.nb"):
            break
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}
