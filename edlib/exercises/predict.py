"""Kind (c): predict what happens, as a multiple choice answered with a letter.

The right choice is never typed by the author: the exercise runs its ``experiment``
(on a fresh system) and the right choice is the one whose value the experiment gives.
If no choice, or more than one, matches, the exercise itself is broken and says so.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from edlib.exercises.describe import describe, short
from edlib.exercises.errors import Incorrect, SetupProblem
from edlib.exercises.exercise import Exercise, WrongAnswer
from edlib.exercises.function import same
from edlib.exercises.guard import Guard
from edlib.exercises.result import SolutionView


class PredictExercise(Exercise):
    """The learner answers ``answer = "b"``; the experiment decides which letter is right.

    ``choices``: letter -> the value that choice predicts (``{"a": 0, "b": 5}``);
    ``experiment``: runs the system and returns the value that happens; ``why``:
    letter -> why that choice is wrong (the INCORRECT message); ``explanation``: why
    the right one is right. ``variable`` defaults to ``answer``.
    """

    kind = "predict"

    def __init__(self, *, choices: Mapping[str, Any], experiment: Callable[[], Any],
                 why: Mapping[str, str] | None = None, variable: str = "answer", **common: Any) -> None:
        super().__init__(variable=variable, **common)
        self.choices = {str(k).lower(): v for k, v in choices.items()}
        self.experiment = experiment
        self.why = {str(k).lower(): v for k, v in (why or {}).items()}

    def outcome_of_experiment(self) -> tuple[str, Any]:
        """Run the experiment; return the matching letter and the value measured."""
        measured = self.experiment()
        matching = [k for k, v in self.choices.items() if same(measured, v)]
        if len(matching) != 1:
            raise SetupProblem(f"the experiment of {self.name} measured {describe(measured)}, which matches "
                               f"{len(matching)} of its choices: the exercise is broken, not your answer.")
        return matching[0], measured

    def judge(self, namespace: Mapping[str, Any], guard: Guard) -> str:
        given = self.answer(namespace)
        letters = ", ".join(f'"{k}"' for k in self.choices)
        if not isinstance(given, str) or given.strip().lower() not in self.choices:
            raise Incorrect(f"answer with the letter of one choice ({letters}) in quotes, "
                            f"for example `{self.variable} = \"{next(iter(self.choices))}\"`; "
                            f"`{self.variable}` is {describe(given)}.")
        chosen = given.strip().lower()
        right, measured = self.outcome_of_experiment()
        if chosen != right:
            raise Incorrect(self.why.get(chosen, f"Not {chosen}: run the experiment in your head once more."))
        return f"{right}: the experiment gives {short(measured)}, measured just now on a fresh system."

    @property
    def solution_code(self) -> str:
        right, _ = self.outcome_of_experiment()
        return f'{self.variable} = "{right}"'

    @property
    def wrong_answers(self) -> list[WrongAnswer]:
        right, _ = self.outcome_of_experiment()
        generated = [WrongAnswer(f'{self.variable} = "{k}"', self.why.get(k, f"Not {k}"))
                     for k in self.choices if k != right]
        return generated + list(self._wrong)

    def solution_view(self) -> SolutionView:
        right, measured = self.outcome_of_experiment()
        why = f"Running the experiment gives {short(measured)}: choice {right}."
        return SolutionView(self.name, self.solution_code, f"{why} {self.explanation}".strip())
