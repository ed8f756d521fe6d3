"""``python -m edlib.bench redis``: edlib's publish path on Redis Streams against raw redis-py.

One run, one local ``redis-server`` started for it (127.0.0.1, a free port, no
persistence). The same events (the shop's ``OrderPlaced``, about 230 bytes of JSON) are
appended in the same batches (pipelines of :data:`BATCH` XADDs, no transaction):

- ``raw_xadd_per_s``: redis-py alone, ``pipeline.xadd(stream, {"event": text})`` with each
  event's JSON text already made (nothing but the transport);
- ``edlib_publish_per_s``: :meth:`RedisBus.publish_many` with the Event objects (partition
  choice, type check and :meth:`Event.to_json` included);
- ``consume_per_s``: a consumer group draining edlib's stream through
  :meth:`RedisBus.deliver` (XREADGROUP, :meth:`Event.from_json` validation) and
  :meth:`RedisBus.ack_many`.

The two publishers take turns in :data:`ROUNDS` rounds (the machine's load changes
during a run); each figure is events over the summed time of its rounds.
"""
from __future__ import annotations

import time
from typing import Any

from edlib.bench import benchmark
from edlib.core.clock import EpochClock
from edlib.core.events import EventFactory
from edlib.core.ids import RandomUuids
from edlib.messaging.redis_server import RedisServer
from edlib.messaging.redis_streams import RedisBus

EVENTS_PER_ROUND = 10_000
ROUNDS = 6
BATCH = 500


def _events(n: int, factory: EventFactory) -> list:
    return [factory("OrderPlaced", {"order_id": f"order-{i}", "item": f"book-{i % 97}", "qty": 1 + i % 3},
                    key=f"order-{i}", source="gateway", correlation_id=f"req-{i}") for i in range(n)]


def measure(events_per_round: int = EVENTS_PER_ROUND, rounds: int = ROUNDS, batch: int = BATCH) -> dict[str, Any]:
    """Run the comparison on a fresh local redis-server; return the figures (see the module docstring)."""
    factory = EventFactory(RandomUuids(), EpochClock())
    with RedisServer() as server:
        bus = RedisBus(server.url, consumer="bench", prefix="bench")
        client = bus._redis                                     # the same connection pool for both
        raw_stream = "bench:raw"
        totals = {"raw": 0.0, "edlib": 0.0}
        for r in range(rounds):
            events = _events(events_per_round, factory)
            texts = [e.to_json() for e in events]
            order = ("raw", "edlib") if r % 2 == 0 else ("edlib", "raw")
            for who in order:
                started = time.perf_counter()
                if who == "raw":
                    for i in range(0, len(texts), batch):
                        pipe = client.pipeline(transaction=False)
                        for text in texts[i:i + batch]:
                            pipe.xadd(raw_stream, {"event": text})
                        pipe.execute()
                else:
                    bus.publish_many("OrderPlaced", events, batch=batch)
                totals[who] += time.perf_counter() - started
        total = events_per_round * rounds
        assert bus.length("OrderPlaced") == total == client.xlen(raw_stream)

        bus.subscribe("OrderPlaced", "drain", start="earliest")
        consumed = 0
        started = time.perf_counter()
        while True:
            got = bus.deliver("OrderPlaced", "drain", batch)
            if not got:
                break
            bus.ack_many(got)
            consumed += len(got)
        consume_s = time.perf_counter() - started
        assert consumed == total and bus.backlog("OrderPlaced", "drain") == 0
        size = len(texts[0].encode("utf-8"))
        bus.close()
    raw, edlib = total / totals["raw"], total / totals["edlib"]
    return {"raw_xadd_per_s": round(raw), "edlib_publish_per_s": round(edlib), "ratio": round(edlib / raw, 3),
            "consume_per_s": round(consumed / consume_s), "events": total, "batch": batch, "event_bytes": size}


@benchmark("redis")
def run() -> dict[str, Any]:
    """``python -m edlib.bench redis``: one JSON line."""
    return measure()
