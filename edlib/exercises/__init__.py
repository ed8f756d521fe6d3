"""Exercises learners solve in notebook cells: ``check()``, ``hint()``, ``solution()``.

A notebook's first code cell checks the setup, then imports its exercises::

    from edlib.exercises import setup          # (guarded, see setup_check.FIRST_CELL)
    setup(notebook="02", requires="0.1")
    from edlib.exercises.checks.nb02 import q1, q2

An exercise cell (tagged ``exercise``) holds the placeholder ``____``; the next cell
calls ``q1.check()``. Outcomes: NOT ATTEMPTED, INCORRECT (why), YOUR CODE RAISED (what,
and where in your cell), TOOK TOO LONG, CORRECT, and SETUP PROBLEM (not your answer).
``progress()`` shows what is done in this notebook and in the course.

Four kinds: :class:`ValueExercise` (write a value), :class:`FunctionExercise` (write a
function or handler, tried on fresh systems), :class:`PredictExercise` (predict what
happens; the answer is computed by an experiment), :class:`SystemExercise` (change a
world and observe).
"""
from edlib.exercises.errors import Incorrect, NotAttempted, SetupProblem
from edlib.exercises.exercise import DEFAULT_TIME_LIMIT, Exercise, WrongAnswer
from edlib.exercises.function import Case, FunctionExercise
from edlib.exercises.outcome import Outcome
from edlib.exercises.placeholder import ____
from edlib.exercises.predict import PredictExercise
from edlib.exercises.progress import ENV_VAR as PROGRESS_ENV_VAR
from edlib.exercises.progress import progress
from edlib.exercises.result import Result
from edlib.exercises.setup_check import SetupError, setup
from edlib.exercises.system import SystemExercise, handler_failures
from edlib.exercises.timelimit import TookTooLong
from edlib.exercises.value import ValueExercise, require_type

__all__ = [
    "Case", "DEFAULT_TIME_LIMIT", "Exercise", "FunctionExercise", "Incorrect", "NotAttempted", "Outcome",
    "PROGRESS_ENV_VAR", "PredictExercise", "Result", "SetupError", "SetupProblem", "SystemExercise",
    "TookTooLong", "ValueExercise", "WrongAnswer", "____", "handler_failures", "progress", "require_type",
    "setup",
]
