"""Kind (b): write a function or an event handler, tried on fresh inputs and systems.

Give ``cases`` (arguments and the expected return value) for a plain function, or a
``trial`` for anything else: it receives the learner's function (guarded: what it raises
is reported as theirs, with their line) and builds a fresh system around it, for
example a new :class:`~edlib.World` with the function registered as a handler, runs
it and inspects the result.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edlib.exercises.describe import describe, described, short
from edlib.exercises.errors import Incorrect, NotAttempted
from edlib.exercises.exercise import Exercise
from edlib.exercises.guard import Guard
from edlib.exercises.placeholder import PLACEHOLDER_NAME, code_uses_placeholder


@dataclass(frozen=True)
class Case:
    """One call: ``fn(*args, **kwargs)`` should return ``expected``.

    ``label`` names the case in messages (default: the call itself); ``check``, if
    given, replaces the equality test: it gets the result and raises Incorrect.
    """

    args: tuple = ()
    expected: Any = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    check: Callable[[Any], None] | None = None


class FunctionExercise(Exercise):
    """The learner defines the function :attr:`variable`.

    ``cases``: calls and expected results (each gets fresh copies of its arguments);
    ``returns``: the types a result must have (``expects`` says so in words: "a number");
    ``handler``: the function must be usable
    as an edlib handler (first parameter the event or data; others among ``db``,
    ``publish``, ``service``, ``now``); ``trial``: a function of the guarded learner
    function that raises Incorrect or returns a note.
    """

    kind = "function"

    def __init__(self, *, cases: Sequence[Case] = (), returns: tuple[type, ...] = (), expects: str = "",
                 handler: bool = False, trial: Callable[[Callable[..., Any]], str | None] | None = None,
                 allow: tuple[type[BaseException], ...] = (), **common: Any) -> None:
        super().__init__(**common)
        self.cases = tuple(cases)
        self.returns = tuple(returns)
        self.expects = expects or "a value of type " + " or ".join(t.__name__ for t in self.returns)
        self.handler = handler
        self.trial = trial
        self.allow = allow

    def judge(self, namespace: Mapping[str, Any], guard: Guard) -> str:
        fn = self.answer(namespace)
        name = self.variable
        if not callable(fn) or isinstance(fn, type):
            raise Incorrect(f"`{name}` should be a function (`def {name}(...):`), but it is {described(fn)}.")
        if code_uses_placeholder(fn):
            raise NotAttempted(f"`{name}` still contains {PLACEHOLDER_NAME}: write its body in the exercise "
                               "cell, run that cell, then this check.", f"Stuck? `{self.name}.hint()` gives a hint.")
        if self.handler:
            require_handler(fn, name)
        for case in self.cases:
            self._try(fn, case, guard)
        if self.trial is not None:
            return self.trial(guard.wrap(fn, name, allow=self.allow)) or ""
        return ""

    def _try(self, fn: Callable[..., Any], case: Case, guard: Guard) -> None:
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(dict(case.kwargs))
        call = case.label or f"{self.variable}({_arguments(case.args, case.kwargs)})"
        got = guard.call(fn, *args, name=self.variable, **kwargs)
        if self.returns:
            if got is None and type(None) not in self.returns:
                raise Incorrect(f"`{call}` returned None: did you forget `return`?")
            if not isinstance(got, self.returns) or (isinstance(got, bool) and bool not in self.returns):
                raise Incorrect(f"`{call}` returned {described(got)}, but it should return "
                                f"{self.expects}.")
        if case.check is not None:
            case.check(got)
        elif not same(got, case.expected):
            raise Incorrect(f"`{call}` returned {describe(got)}, but it should return {describe(case.expected)}.")


def require_handler(fn: Callable[..., Any], name: str) -> None:
    """Raise Incorrect unless ``fn`` can be registered as an edlib handler."""
    from edlib.core.handlers import Handler

    try:
        Handler.wrap(fn)
    except (TypeError, ValueError) as exc:
        raise Incorrect(f"`{name}` cannot be used as a handler: {exc}.") from None


def same(got: Any, expected: Any) -> bool:
    """Equal; booleans only to booleans; floats to 9 significant digits."""
    if isinstance(got, bool) or isinstance(expected, bool):
        return got is expected
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(expected, numbers) and float in (type(got), type(expected)):
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(got == expected)


def _arguments(args: tuple, kwargs: Mapping[str, Any]) -> str:
    return ", ".join([short(a, 40) for a in args] + [f"{k}={short(v, 40)}" for k, v in kwargs.items()])
