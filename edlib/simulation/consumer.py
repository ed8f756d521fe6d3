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

from edlib.core.handlers import InvalidEvent
from edlib.messaging.protocol import Delivery
from edlib.simulation.crashes import Crash
from edlib.simulation.env import Env
from edlib.simulation.service import Service


class Consumer:
    """Consumes ``topic`` for ``service`` (its consumer group is the service's name), in ``env``'s world."""

    def __init__(self, env: Env, service: Service, topic: str) -> None:
        self.env, self.service, self.topic = env, service, topic
        self.busy = False
        self.retry_at = 0.0          # a failed event waits for its backoff until then
        self._wake_times: set[float] = set()

    def wake(self, at: float | None = None) -> None:
        """Look for work at ``at`` (default now); repeated wake-ups at one time merge."""
        t = self.env.now if at is None else at
        if t not in self._wake_times:
            self._wake_times.add(t)
            self.env.scheduler.at(t, lambda: self._pump(t))

    def _pump(self, t: float) -> None:
        self._wake_times.discard(t)
        env, svc = self.env, self.service
        if self.busy or env.now < self.retry_at:     # the wake-up at retry_at is scheduled already
            return
        if not svc.is_up():
            back = svc.up_again_at(env.now)
            if back < math.inf:
                self.wake(back)
            return
        deliveries = env.bus.deliver(self.topic, svc.name)
        if not deliveries:
            return
        d = deliveries[0]
        env.trace.record(env.now, "deliver", "bus", svc.name, d.event.type, d.event.id,
                           detail=f"attempt {d.attempt}" if d.attempt > 1 else "")
        if svc.ack_mode == "before":
            self._ack(d, "acked before processing")
        self.busy = True
        env.scheduler.after(svc.latency_ms, lambda: self._finish(d))

    def _finish(self, d: Delivery) -> None:
        env, svc, trace = self.env, self.service, self.env.trace
        self.busy = False
        acked_early = svc.ack_mode == "before"
        if not svc.is_up():
            detail = "went down while processing: " + ("lost (acked before)" if acked_early else "not acked")
            trace.record(env.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False, detail=detail)
            if not acked_early:
                env.bus.nack(d)
            self.wake(svc.up_again_at(env.now))
            return
        try:
            fresh = svc.handle_event(d.event)
        except Crash as crash:
            svc.crashed(crash)
            if acked_early:
                trace.record(env.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False,
                             detail="lost: acked before processing")
            else:
                env.bus.nack(d)
            self.wake(svc.up_again_at(env.now))
            return
        except Exception as exc:
            self._failed(d, exc)
            return
        if not acked_early:
            if self._ack_lost():
                env.bus.nack(d)
                trace.record(env.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False,
                             detail="ack lost (injected): it will be delivered again")
            else:
                self._ack(d, "" if fresh else "duplicate: skipped")
        self.wake()

    def _ack(self, d: Delivery, detail: str) -> None:
        self.env.bus.ack(d)
        self.env.trace.record(self.env.now, "ack", self.service.name, "bus", d.event.type, d.event.id,
                                detail=detail)

    def _ack_lost(self) -> bool:
        lost = self.env.faults.lost_ack
        if lost is None or lost[1].random() >= lost[0]:
            return False
        self.env.faults.counts["lost_acks"] += 1
        return True

    def _failed(self, d: Delivery, exc: Exception) -> None:
        env, svc, trace = self.env, self.service, self.env.trace
        reason = f"{type(exc).__name__}: {exc}"
        trace.record(env.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False, detail=reason)
        if svc.ack_mode == "before":                  # acked already: nobody will try again
            self.wake()
            return
        policy = svc.retry_policy
        if policy.gives_up(d.attempt) or isinstance(exc, InvalidEvent):
            env.bus.dead_letter(d, reason)
            env.dead_letter(svc.name, self.topic, d, reason)
            self.wake()
            return
        delay = policy.delay_ms(d.attempt, env.random)
        env.bus.nack(d, reason=reason, delay_ms=delay)
        self.retry_at = env.now + delay
        trace.record(env.now, "retry", "bus", svc.name, d.event.type, d.event.id,
                     detail=f"attempt {d.attempt + 1} in {delay:g} ms")
        self.wake(env.now + delay)
