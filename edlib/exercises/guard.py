"""Call the learner's functions so that what they do wrong is reported as theirs.

A :class:`Guard` lives for one check. ``guard.wrap(fn)`` gives a function with the same
signature (so ``edlib`` can still inject ``db``, ``publish``...) that records the first
exception the learner's code raises, with the learner's line, and re-raises it: a World
running the handler reacts as it would to any failing handler, and the check then
reports *your code raised* instead of a confusing consequence. ``guard.call(fn, ...)``
calls once and raises :class:`~edlib.exercises.errors.LearnerError` directly.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from edlib.exercises.blame import learner_location
from edlib.exercises.describe import sanitize
from edlib.exercises.errors import Incorrect, LearnerError


class Guard:
    """Watches the learner's functions during one check."""

    def __init__(self) -> None:
        self.problem: LearnerError | Incorrect | None = None

    def wrap(self, fn: Callable[..., Any], name: str | None = None,
             allow: tuple[type[BaseException], ...] = ()) -> Callable[..., Any]:
        """``fn`` with the same signature, recording (then re-raising) what it raises.

        Exceptions of the types in ``allow`` are expected (the exercise asks for them):
        they pass through without being recorded.
        """
        label = _label(fn, name)

        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self._check_arguments(fn, label, args, kwargs)
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if self.problem is None and not isinstance(exc, allow):
                    self.problem = learner_error(exc, label)
                raise

        return guarded

    def call(self, fn: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)``; raise LearnerError (or Incorrect) if it fails."""
        label = _label(fn, name)
        self._check_arguments(fn, label, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise learner_error(exc, label) from None

    def raise_problem(self) -> None:
        """Raise what the learner's code did wrong during this check, if anything."""
        if self.problem is not None:
            raise self.problem

    def _check_arguments(self, fn: Callable[..., Any], label: str, args: tuple, kwargs: dict) -> None:
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        try:
            sig.bind(*args, **kwargs)
        except TypeError:
            problem = Incorrect(f"`{label}` cannot be called the way this exercise calls it: "
                                f"it takes `{label}{sanitize(str(sig))}`, but it is given {_given(args, kwargs)}.")
            if self.problem is None:
                self.problem = problem
            raise problem from None


def _label(fn: Callable[..., Any], name: str | None) -> str:
    """How the messages name ``fn``: ``name`` if given, else the function's own name."""
    if name:
        return name
    return getattr(fn, "__name__", "your function")


def learner_error(exc: BaseException, function: str = "") -> LearnerError:
    """Wrap ``exc`` with the learner's line it came from."""
    return LearnerError(exc, learner_location(exc), function)


def exception_text(exc: BaseException) -> str:
    """``KeyError: 'amount'`` without memory addresses, cut to a readable length."""
    message = sanitize(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _given(args: tuple, kwargs: dict) -> str:
    n = len(args)
    parts = [f"{n} positional argument{'s' if n != 1 else ''}"]
    if kwargs:
        parts.append("keywords " + ", ".join(sorted(kwargs)))
    return " and ".join(parts)
