"""The saga as data: its :class:`Step` s and the :class:`SagaDefinition` that orders them.

A definition only describes a saga (which commands to send, which replies to wait for);
it is checked where it is written, so a mistake fails at once rather than mid-saga. The
coordinator that runs it is :mod:`edlib.patterns.saga.machine`; the wiring into a world is
:mod:`edlib.patterns.saga.wiring`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edlib.core.events import check_event_type


@dataclass(frozen=True)
class Step:
    """One step: the command that asks a participant to act, and the replies it can send.

    ``action``: the command (``"TakePayment"``); ``done`` / ``failed``: its success and
    failure replies; ``compensation``: the command that undoes it (None: nothing to undo);
    ``compensated``: the reply confirming the undo (None: the coordinator does not wait).
    """

    name: str
    action: str
    done: str
    failed: str | None = None
    compensation: str | None = None
    compensated: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a step needs a name such as 'payment', got {self.name!r}")
        for what in ("action", "done", "failed", "compensation", "compensated"):
            value = getattr(self, what)
            if value is not None:
                check_event_type(value)
            elif what in ("action", "done"):
                raise ValueError(f"step {self.name!r} needs {what}=...")
        if self.compensated is not None and self.compensation is None:
            raise ValueError(f"step {self.name!r}: compensated={self.compensated!r} without a compensation")


@dataclass(frozen=True)
class SagaDefinition:
    """A whole saga: the event that starts it, its steps in order, and what to send at the end.

    ``key``: the data field that names one saga (``"order_id"``); ``completed`` / ``aborted``:
    the command sent when every step succeeded / after the compensations ran (None: nothing).
    """

    name: str
    starts_on: str
    steps: Sequence[Step]
    key: str = "order_id"
    completed: str | None = None
    aborted: str | None = None

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        object.__setattr__(self, "steps", steps)
        if not steps or not all(isinstance(s, Step) for s in steps):
            raise ValueError("a saga needs at least one Step")
        check_event_type(self.starts_on)
        for end in (self.completed, self.aborted):
            if end is not None:
                check_event_type(end)
        for kind, names in (("reply", self.replies()), ("command", self.commands())):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"saga {self.name!r}: each {kind} type may appear once, {repeated} repeat")
        if len({s.name for s in steps}) != len(steps):
            raise ValueError(f"saga {self.name!r}: step names must differ")

    def commands(self) -> list[str]:
        """Every command type the coordinator sends, in the order of the definition."""
        out = [t for s in self.steps for t in (s.action, s.compensation) if t is not None]
        return out + [t for t in (self.completed, self.aborted) if t is not None]

    def replies(self) -> list[str]:
        """Every event type the coordinator listens to: the start, then each step's replies."""
        return [self.starts_on] + [t for s in self.steps for t in (s.done, s.failed, s.compensated) if t is not None]
