"""Exercises of notebook 12, concurrency and thread safety."""
from __future__ import annotations

import inspect

from edlib.exercises import FunctionExercise, Incorrect, PredictExercise, ValueExercise, WrongAnswer
from edlib.simulation.interleave import Lock, explore, run

NOTEBOOK = "12"


def increment(store):
    value = store["count"]
    yield f"read {value}"
    store["count"] = value + 1
    return f"wrote {value + 1}"


def _check_schedule(schedule: str) -> str:
    store = {"count": 0}
    try:
        result = run({"A": increment(store), "B": increment(store)}, schedule, lambda: store["count"])
    except ValueError as exc:
        raise Incorrect(f"{exc}. Each task takes two steps (read, then write): use the letters A and B, "
                        "two of each.") from None
    if result.result == 2:
        raise Incorrect(f"under {result.schedule} the count ends at 2: no update was lost. One task wrote "
                        "before the other read; make both read before either writes.")
    return f"under {result.schedule} both tasks read 0 and both wrote 1: one of the two updates is lost."


q1 = ValueExercise(
    notebook=NOTEBOOK, name="q1", title="A schedule that loses an update",
    variable="lost_schedule", types=(str,), expects="a string such as \"AABB\"", check=_check_schedule,
    hints=["Each letter is one step of that task: A's first step reads, its second writes.",
           "An update is lost when a task writes a value computed from a stale read.",
           "Let both tasks read first: the schedule starts with A and B."],
    solution='lost_schedule = "ABAB"',
    explanation="Both read 0 before either wrote, so both wrote 1: the read-modify-write was not atomic.",
    wrong=[WrongAnswer('lost_schedule = "AABB"', "no update was lost"),
           WrongAnswer('lost_schedule = "ABC"', "the tasks are A, B"),
           WrongAnswer("lost_schedule = 1", "should be a string")],
)


class NaiveBus:
    """The tutorial's kind of bus: a dict of subscribers, no lock."""

    def __init__(self, *names: str) -> None:
        self.subscribers: dict[str, list[str]] = {name: [] for name in names}

    def subscribe(self, name: str) -> str:
        self.subscribers[name] = []
        return f"{name} subscribed"

    def publish(self, event):
        for name in self.subscribers:
            self.subscribers[name].append(event)
            yield f"delivered {event} to {name}"


def _raising_interleavings() -> int:
    def make():
        bus = NaiveBus("a", "b")
        return {"P": bus.publish("evt-1"), "S": lambda: bus.subscribe("c")}, lambda: None

    return sum(r.error is not None for r in explore(make))


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="race_answer", title="How often does the naive bus raise?",
    choices={"a": 0, "b": 1, "c": 2, "d": 4},
    experiment=_raising_interleavings,
    why={"a": "The run above raised: at least one interleaving does.",
         "b": "Count the places S can go: before P's first step, between its steps, after its last.",
         "d": "If c subscribes before the publish starts, or after it ends, the loop never sees the dict change."},
    hints=["P has a step per subscriber and a last step that finds the loop is over; S has one step.",
           "The loop raises when the dict changed size since the loop began, and the loop goes on afterwards."],
    explanation="Only the interleavings where c subscribes while the loop is still running raise.",
)


class LockedBus:
    """A bus whose subscribe is safe: it changes ``subscribers`` only while holding ``lock``."""

    def __init__(self, *names: str) -> None:
        self.lock = Lock()
        self.subscribers: dict[str, list[str]] = {name: [] for name in names}

    def subscribe(self, name):
        yield from self.lock.acquire()
        self.subscribers[name] = []
        self.lock.release()
        return f"{name} subscribed"


def _trial_publish(safe_publish) -> str:
    if not inspect.isgeneratorfunction(inspect.unwrap(safe_publish)):
        raise Incorrect("`safe_publish` should be a generator function: a task whose `yield`s mark where "
                        "another thread may take over (yield after each delivery).")

    def make():
        bus = LockedBus("a", "b")
        return {"P": safe_publish(bus, "evt-1"), "S": bus.subscribe("c")}, lambda: bus.subscribers

    runs = explore(make)
    for r in runs:
        if r.error:
            raise Incorrect(f"under the schedule {r.schedule} your publish raised {r.error}. Iterate over a "
                            "snapshot of the subscribers (a copy taken while holding the lock), not the dict itself.")
        if r.deadlock:
            raise Incorrect(f"under the schedule {r.schedule}, {' and '.join(r.stuck)} waited forever for the "
                            "lock: release it once you have taken the snapshot.")
        inboxes = r.result
        for name in ("a", "b"):
            if inboxes[name] != ["evt-1"]:
                raise Incorrect(f"under the schedule {r.schedule} subscriber {name!r} received "
                                f"{inboxes[name]}, not ['evt-1']: deliver the event once to every subscriber.")
        late = r.schedule.index("S") > r.schedule.index("P")
        if late and inboxes.get("c"):
            raise Incorrect(f"under the schedule {r.schedule}, c subscribed after the publish had started, yet "
                            "received evt-1: take the snapshot as the first thing publish does.")
    return f"all {len(runs)} interleavings: no error, no deadlock, and c receives evt-1 only if it subscribed first."


q3 = FunctionExercise(
    notebook=NOTEBOOK, name="q3", title="Publish from a snapshot taken under the lock",
    variable="safe_publish", trial=_trial_publish,
    hints=["Start with `yield from bus.lock.acquire()`; end the locked part with `bus.lock.release()`.",
           "While holding the lock, copy the subscribers: `targets = list(bus.subscribers.items())`.",
           "After the release, deliver to each (name, inbox) in `targets` and `yield` after each delivery."],
    solution='def safe_publish(bus, event):\n'
             '    yield from bus.lock.acquire()\n'
             '    targets = list(bus.subscribers.items())    # a snapshot, taken under the lock\n'
             '    bus.lock.release()\n'
             '    for name, inbox in targets:\n'
             '        inbox.append(event)\n'
             '        yield f"delivered {event} to {name}"',
    explanation="The lock makes changes to the subscriber dict and the snapshot exclusive; delivering from the "
                "snapshot means a new subscriber can neither break the loop nor receive an older event.",
    wrong=[WrongAnswer('def safe_publish(bus, event):\n'
                       '    for name in bus.subscribers:\n'
                       '        bus.subscribers[name].append(event)\n'
                       '        yield f"delivered {event} to {name}"', "dictionary changed size"),
           WrongAnswer('def safe_publish(bus, event):\n'
                       '    yield from bus.lock.acquire()\n'
                       '    targets = list(bus.subscribers.items())\n'
                       '    for name, inbox in targets:\n'
                       '        inbox.append(event)\n'
                       '        yield f"delivered {event} to {name}"', "waited forever"),
           WrongAnswer('def safe_publish(bus, event):\n'
                       '    for name, inbox in list(bus.subscribers.items()):\n'
                       '        inbox.append(event)', "generator function")],
)
