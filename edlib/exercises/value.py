"""Kind (a): write a value, such as ``availability = 0.99 * 0.95``."""
from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Mapping
from typing import Any

from edlib.exercises.describe import described
from edlib.exercises.errors import Incorrect
from edlib.exercises.exercise import Exercise
from edlib.exercises.guard import Guard


class ValueExercise(Exercise):
    """The learner binds :attr:`variable` to a value; ``check`` judges a copy of it.

    ``types``: the accepted types (``(int, float)``; ``bool`` only if listed);
    ``expects``: how to call it in messages (``"a number"``); ``check``: a function of
    the value that raises :class:`~edlib.exercises.Incorrect` with the reason, or
    returns a note for the CORRECT message.
    """

    kind = "value"

    def __init__(self, *, check: Callable[[Any], str | None], types: tuple[type, ...] = (),
                 expects: str = "", **common: Any) -> None:
        super().__init__(**common)
        self._check = check
        self.types = tuple(types)
        self.expects = expects or " or ".join(t.__name__ for t in self.types)

    def judge(self, namespace: Mapping[str, Any], guard: Guard) -> str:
        value = self.answer(namespace)
        require_type(value, self.types, f"`{self.variable}`", self.expects)
        with contextlib.suppress(Exception):
            value = copy.deepcopy(value)  # the check may not change the learner's value
        return self._check(value) or ""


def require_type(value: Any, types: tuple[type, ...], what: str, expects: str = "") -> None:
    """Raise Incorrect unless ``value`` is one of ``types`` (a bool is not an int here)."""
    if not types:
        return
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        wanted = expects or " or ".join(t.__name__ for t in types)
        raise Incorrect(f"{what} should be {wanted}, but it is {described(value)}.")
