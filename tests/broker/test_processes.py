"""The shop as real processes over Redis: a consumer killed with SIGKILL loses nothing,
two instances share the work, and the HTTP gateway refuses bad input clearly."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from edlib.messaging.redis_server import free_port
from edlib.runtime.cluster import LocalShop, order_ids, wait_for

pytestmark = pytest.mark.redis
PATH = re.compile(r"(/[\w.-]+){2,}")          # a file path such as /work/x/y.py


@pytest.fixture
def shop(redis_server, redis_prefix, tmp_path):
    with LocalShop(redis_server.url, tmp_path, prefix=redis_prefix, claim_idle_ms=500) as running:
        yield running
    assert running.running() == []


def acked_by(shop: LocalShop, consumer: str) -> int:
    return shop.query("orders", "SELECT COUNT(*) FROM trace WHERE kind = 'ack' AND detail = ?", (consumer,))[0][0]


def test_a_consumer_killed_mid_stream_loses_nothing_after_restart(shop):
    shop.start()                                              # the gateway; orders is not running yet
    sent = order_ids(shop.post("/orders", {"item": f"book-{i}", "qty": 1}) for i in range(200))
    assert len(sent) == 200
    shop.start_service("orders", "orders-1", slow_ms=5)
    holding = lambda: len(shop.bus.pending("OrderPlaced", "orders")) >= 2   # noqa: E731
    wait_for(lambda: acked_by(shop, "orders-1") >= 40 and holding(), what="orders-1 part way through a batch")
    shop.kill("orders-1")                                     # SIGKILL: no goodbye, no acks
    recorded_before = len(shop.ids("orders", "orders"))
    pending = shop.bus.pending("OrderPlaced", "orders")
    assert 0 < recorded_before < 200 and pending                  # killed mid-stream, holding events
    assert {p.consumer for p in pending} == {"orders-1"}

    shop.start_service("orders", "orders-2")                  # the restart: a new consumer in the group
    shop.wait_until_idle(["orders"])
    recorded = shop.ids("orders", "orders")
    assert sorted(recorded) == sorted(sent), f"lost: {sorted(set(sent) - set(recorded))[:5]}"
    processed = shop.query("orders", "SELECT COUNT(*) FROM processed_events")[0][0]
    assert processed == 200                                   # each event applied once
    redelivered = shop.query("orders", "SELECT COUNT(*) FROM trace WHERE kind = 'deliver' "
                                       "AND detail LIKE 'orders-2, attempt %'")[0][0]
    assert redelivered >= len(pending) - 1                    # the held events came again (XAUTOCLAIM)
    assert shop.bus.pending("OrderPlaced", "orders") == []


def test_two_instances_in_one_group_share_the_work(shop):
    shop.start("shipping")
    shop.start_service("orders", "orders-a", slow_ms=5, batch=2, wait=False)
    shop.start_service("orders", "orders-b", slow_ms=5, batch=2, wait=False)
    shop.processes.wait_ready(["orders-a", "orders-b"])
    sent = order_ids(shop.post("/orders", {"item": f"pen-{i}", "qty": 2}) for i in range(60))
    shop.wait_until_idle()
    a, b = acked_by(shop, "orders-a"), acked_by(shop, "orders-b")
    assert a > 0 and b > 0 and a + b == 60                    # shared, not each doing everything
    assert sorted(shop.ids("orders", "orders")) == sorted(sent)
    assert len(shop.ids("shipping", "shipments")) == 60       # another group still sees every event
    status, body = shop.get(f"/orders/{sent[-1]}")
    assert status == 200 and body["status"] == "placed" and body["item"] == "pen-59"


BAD = [
    ("empty body", dict(raw=b""), 400, "request body is empty"),
    ("null", dict(raw=b"null"), 400, "request body is None"),
    ("a list", dict(body=[1, 2]), 400, "must be a dict"),
    ("not JSON", dict(raw=b"{item: book}"), 400, "not valid JSON"),
    ("not UTF-8", dict(raw=b'{"item": "\xff"}'), 400, "not valid UTF-8"),
    ("NaN", dict(raw=b'{"item": "x", "qty": NaN}'), 400, "NaN is not a JSON number"),
    ("lone surrogate", dict(raw=b'{"item": "\\ud800", "qty": 1}'), 400, "lone surrogate"),
    ("qty as text", dict(body={"item": "book", "qty": "2"}), 400, "request body.qty: '2' is not of type"),
    ("qty zero", dict(body={"item": "book", "qty": 0}), 400, "less than the minimum of 1"),
    ("no item", dict(body={"qty": 1}), 400, "'item' is a required property"),
    ("extra field", dict(body={"item": "book", "qty": 1, "price": 0}), 400, "Additional properties"),
    ("too deep", dict(raw=b"[" * 5000 + b"]" * 5000), 400, "request body"),
    ("huge number", dict(raw=b'{"item": "x", "qty": ' + b"9" * 5000 + b"}"), 400, "not valid JSON"),
    ("oversized", dict(body={"item": "x" * 70_000, "qty": 1}), 413, "the limit is 65,536"),
    ("wrong type", dict(body={"item": "book", "qty": 1}, content_type="text/plain"), 415, "Content-Type"),
]


def test_bad_http_input_gets_a_clear_4xx_and_nothing_is_stored(shop):
    shop.start("orders")
    for label, request, status, says in BAD:
        got, body = shop.post("/orders", **request)
        assert (got, label) == (status, label), body
        assert set(body) == {"error"} and says in body["error"], (label, body)
        text = body["error"]
        assert not PATH.search(text.replace("application/json", "")), (label, text)
        for leak in ("Traceback", "File \"", "sqlite", "SELECT", "edlib", ".py"):
            assert leak not in text, (label, text)
    for path, status in (("/orders/order-1", 404), ("/orders/x%00y", 400), ("/nowhere", 404),
                         ("/orders/" + "a" * 100, 400)):
        got, body = shop.get(path)
        assert got == status and set(body) == {"error"}
    assert shop.get("/health") == (200, {"broker": "reachable", "status": "ok"})
    assert shop.bus.length("OrderPlaced") == 0                # nothing published
    assert shop.query("gateway", "SELECT COUNT(*) FROM counters") in ([], [(0,)])   # no order id used
    assert shop.ids("orders", "orders") == []
    assert shop.post("/orders", {"item": "book", "qty": 1}) == (202, {"order_id": "order-1", "status": "accepted"})


def test_a_process_without_a_broker_says_so_in_one_line(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run([sys.executable, "-m", "edlib.runtime.process", "service", "orders", "--broker", url,
                           "--db", str(tmp_path / "orders.db")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "Traceback" not in done.stderr
