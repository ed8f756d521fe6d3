"""A consumer: pulls one service's events from one topic of the bus, one at a time.

It is the loop every broker client runs: ask the bus for the next event, hand it to the
service's handler, ack it, repeat; wait while the service is down. What it does around
the handler is the subject of notebooks 05 and 06:

- ``ack_mode="after"``: ack only once the handler committed; a crash before the ack means
  the event comes again (at-least-once: maybe twice);
- ``ack_mode="before"``: ack on delivery; a crash while handling loses the event
  (at-most-once);
- a handler that raises is retried after the service's retry policy's backoff, and after
  its last attempt the event becomes a dead letter (with the reason and delivery count).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from edlib.messaging.memory import Delivery
from edlib.simulation.faults import Crash
from edlib.simulation.service import InvalidEvent

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.service import Service
    from edlib.simulation.world import World


class Consumer:
    """Consumes ``topic`` for ``service`` (its consumer group is the service's name)."""

    def __init__(self, world: "World", service: "Service", topic: str) -> None:
        self.world, self.service, self.topic = world, service, topic
        self.busy = False
        self.retry_at = 0.0          # a failed event waits for its backoff until then
        self._wake_times: set[float] = set()

    def wake(self, at: float | None = None) -> None:
        """Look for work at ``at`` (default now); repeated wake-ups at one time merge."""
        t = self.world.now if at is None else at
        if t not in self._wake_times:
            self._wake_times.add(t)
            self.world.scheduler.at(t, lambda: self._pump(t))

    def _pump(self, t: float) -> None:
        self._wake_times.discard(t)
        world, svc = self.world, self.service
        if self.busy or world.now < self.retry_at:     # the wake-up at retry_at is scheduled already
            return
        if not svc.is_up():
            back = svc.up_again_at(world.now)
            if back < math.inf:
                self.wake(back)
            return
        deliveries = world.bus.deliver(self.topic, svc.name)
        if not deliveries:
            return
        d = deliveries[0]
        world.trace.record(world.now, "deliver", "bus", svc.name, d.event.type, d.event.id,
                           detail=f"attempt {d.attempt}" if d.attempt > 1 else "")
        if svc.ack_mode == "before":
            self._ack(d, "acked before processing")
        self.busy = True
        world.scheduler.after(svc.latency_ms, lambda: self._finish(d))

    def _finish(self, d: Delivery) -> None:
        world, svc, trace = self.world, self.service, self.world.trace
        self.busy = False
        acked_early = svc.ack_mode == "before"
        if not svc.is_up():
            detail = "went down while processing: " + ("lost (acked before)" if acked_early else "not acked")
            trace.record(world.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False, detail=detail)
            if not acked_early:
                world.bus.nack(d)
            self.wake(svc.up_again_at(world.now))
            return
        try:
            fresh = svc.handle_event(d.event)
        except Crash as crash:
            svc.crashed(crash)
            if acked_early:
                trace.record(world.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False,
                             detail="lost: acked before processing")
            else:
                world.bus.nack(d)
            self.wake(svc.up_again_at(world.now))
            return
        except Exception as exc:
            self._failed(d, exc)
            return
        if not acked_early:
            if self._ack_lost():
                world.bus.nack(d)
                trace.record(world.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False,
                             detail="ack lost (injected): it will be delivered again")
            else:
                self._ack(d, "" if fresh else "duplicate: skipped")
        self.wake()

    def _ack(self, d: Delivery, detail: str) -> None:
        self.world.bus.ack(d)
        self.world.trace.record(self.world.now, "ack", self.service.name, "bus", d.event.type, d.event.id,
                                detail=detail)

    def _ack_lost(self) -> bool:
        lost = self.world.lost_ack
        if lost is None or lost[1].random() >= lost[0]:
            return False
        self.world.fault_counts["lost_acks"] += 1
        return True

    def _failed(self, d: Delivery, exc: Exception) -> None:
        world, svc, trace = self.world, self.service, self.world.trace
        reason = f"{type(exc).__name__}: {exc}"
        trace.record(world.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False, detail=reason)
        if svc.ack_mode == "before":                  # acked already: nobody will try again
            self.wake()
            return
        policy = svc.retry_policy
        if policy.gives_up(d.attempt) or isinstance(exc, InvalidEvent):
            world.bus.ack(d)
            world.dead_letter(svc.name, self.topic, d, reason)
            self.wake()
            return
        world.bus.nack(d)
        delay = policy.delay_ms(d.attempt, world.random)
        self.retry_at = world.now + delay
        trace.record(world.now, "retry", "bus", svc.name, d.event.type, d.event.id,
                     detail=f"attempt {d.attempt + 1} in {delay:g} ms")
        self.wake(world.now + delay)
