"""Kind (d): change a running system and observe what it does.

The exercise builds a fresh :class:`~edlib.World` for the learner
(``world = q4.world()``); the learner changes it in the exercise cell (a route, a
handler, an outage...) and usually runs it; the check then inspects that world. While
the world is exactly as it was built, the check says *not attempted*.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from edlib.exercises.describe import described
from edlib.exercises.errors import Incorrect, NotAttempted
from edlib.exercises.exercise import Exercise
from edlib.exercises.guard import Guard
from edlib.messaging.memory import InMemoryBus
from edlib.simulation.world import World

KEEP_WORLDS = 16
"""Worlds handed out per exercise that a check still recognises."""


def memory_bus(world: World) -> InMemoryBus:
    """``world.bus``, whose topics, groups and log the checks read: every exercise's world has an InMemoryBus."""
    bus = world.bus
    if not isinstance(bus, InMemoryBus):
        raise TypeError(f"the exercise checks read an InMemoryBus, not a {type(bus).__name__}")
    return bus


def fingerprint(world: World) -> tuple:
    """Everything a learner can change in a world, as a comparable value."""
    bus = memory_bus(world)
    services = tuple(
        (name, s.latency_ms, tuple(s.outages),
         tuple((k, id(h.fn)) for k, h in sorted(s.endpoints.items())),
         tuple((k, id(h.fn), s.topics.get(k)) for k, h in sorted(s.handlers.items())),
         s.db.rows())
        for name, s in sorted(world.services.items()))
    routes = tuple((r.method, r.pattern, r.calls, r.publish, r.topic, r.id_prefix) for r in world.gateway.routes)
    topics = tuple((t, len(bus.log(t)), tuple(bus.groups(t))) for t in bus.topics())
    return (world.now, len(world.trace), len(world.responses), len(world.dead_letters), world.retry,
            world.scheduler.pending(), services, routes, topics)


def handler_failures(world: World) -> list[str]:
    """Why handlers failed in ``world`` (``"shipping: KeyError: 'x'"``), in time order."""
    return [f"{r.source}: {r.detail}" for r in world.trace.where("fail")
            if r.detail and "went down" not in r.detail]


class SystemExercise(Exercise):
    """The learner changes the world from :meth:`world`; ``inspect`` judges it.

    ``build``: makes the starting world; ``inspect``: a function of the learner's world
    that raises Incorrect or returns a note (it should only read, so that checking twice
    gives the same answer). ``variable`` defaults to ``world``.
    """

    kind = "system"

    def __init__(self, *, build: Callable[[], World], inspect: Callable[[World], str | None],
                 variable: str = "world", **common: Any) -> None:
        super().__init__(variable=variable, **common)
        self.build = build
        self.inspect = inspect
        self._issued: dict[int, tuple[World, tuple]] = {}

    def world(self) -> World:
        """A fresh starting world for this exercise."""
        w = self.build()
        self._issued[id(w)] = (w, fingerprint(w))
        while len(self._issued) > KEEP_WORLDS:  # keep the latest few (dicts keep insertion order)
            del self._issued[next(iter(self._issued))]
        return w

    def judge(self, namespace: Mapping[str, Any], guard: Guard) -> str:
        w = self.answer(namespace)
        start = f"`{self.variable} = {self.name}.world()`"
        if not isinstance(w, World):
            raise Incorrect(f"`{self.variable}` should be the world you changed (start the cell with {start}), "
                            f"but it is {described(w)}.")
        issued = self._issued.get(id(w))
        if issued is None or issued[0] is not w:
            raise Incorrect(f"`{self.variable}` is not a world that `{self.name}.world()` built: start the "
                            f"exercise cell with {start}, then change it.")
        if fingerprint(w) == issued[1]:
            raise NotAttempted(f"`{self.variable}` is exactly as `{self.name}.world()` built it: make your "
                               "change in the exercise cell, run that cell, then this check.",
                               f"Stuck? `{self.name}.hint()` gives a hint.")
        return self.inspect(w) or ""
