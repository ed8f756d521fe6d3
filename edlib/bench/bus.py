"""``python -m edlib.bench bus``: one publish delivered to one subscriber, against peers.

Every contender delivers the same prebuilt event to the same handler body: a direct
function call, edlib's :class:`~edlib.messaging.memory.InMemoryBus` (the class the notebooks use,
with a pushed consumer group; once without and once with a trace), ``blinker`` and
``pyee``. They are measured in one run, in rotating order, after a warm-up; each figure
is the median over rounds of the mean time per delivery, in microseconds.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from edlib.bench import benchmark
from edlib.core.events import Event, EventFactory
from edlib.core.trace import Trace
from edlib.messaging.memory import InMemoryBus

ROUNDS = 31
CALLS = 20_000
WARMUP_ROUNDS = 3


def contenders(handle: Callable[[Event], None], event: Event,
               trace: Trace) -> dict[str, Callable[[], object]]:
    """The callables to time, each delivering ``event`` once to ``handle`` (the traced bus records into ``trace``)."""
    import blinker
    import pyee

    plain = InMemoryBus()
    plain.subscribe("orders", "shipping", handler=handle)
    traced = InMemoryBus(trace=trace)
    traced.subscribe("orders", "shipping", handler=handle)
    signal = blinker.Signal()
    signal.connect(handle, weak=False)
    emitter = pyee.EventEmitter()
    emitter.on("orders", handle)

    publish, publish_traced, send, emit = plain.publish, traced.publish, signal.send, emitter.emit
    return {
        "direct": lambda: handle(event),
        "edlib": lambda: publish("orders", event),
        "edlib_traced": lambda: publish_traced("orders", event),
        "blinker": lambda: send(event),
        "pyee": lambda: emit("orders", event),
    }


def _time_per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def measure(rounds: int = ROUNDS, calls: int = CALLS) -> dict[str, float]:
    """Median microseconds per delivery for each contender, measured side by side."""
    totals: dict[str, int] = {}

    def handle(event) -> None:                 # the same handler body for everyone
        totals[event.key] = totals.get(event.key, 0) + event.data["qty"]

    event = EventFactory()("OrderPlaced", {"sku": "book", "qty": 1}, key="book")
    trace = Trace()
    fns = contenders(handle, event, trace)
    names = list(fns)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(WARMUP_ROUNDS + rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            t = _time_per_call(fns[name], calls)
            trace.clear()                      # keep the traced bus at a steady size
            if r >= WARMUP_ROUNDS:
                samples[name].append(t)
    return {f"{n}_us": round(statistics.median(v), 4) for n, v in samples.items()}


@benchmark("bus")
def bus() -> dict[str, float]:
    """One JSON line: direct_us, edlib_us, edlib_traced_us, blinker_us, pyee_us."""
    return measure()
