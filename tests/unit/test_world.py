"""The two experiments notebooks 02 and 03 rely on, and the world's building blocks."""
import pytest

from edlib import World
from edlib.course.scenarios import event_shop, sync_shop


def sync_world(shipping_latency=20.0):
    return sync_shop(seed=1, shipping_ms=shipping_latency)


def event_world():
    return event_shop(seed=1)


BODIES = [{"item": f"book-{i}"} for i in range(40)]


def test_sync_outage_fails_requests_during_it():
    world = sync_world()
    world.service("shipping").down(1000, 3000)
    responses = world.send_many("POST /orders", BODIES, every_ms=100)
    failed = [r for r in responses if not r.ok]
    assert len(failed) == 20 and {r.status for r in failed} == {503}
    assert all(1000 <= r.sent_ms < 3000 for r in failed)
    # the order was written before shipping failed: the partial write the notebook discusses
    assert world.service("orders").db.count("orders") == 40
    assert world.service("shipping").db.count("shipments") == 20


def test_sync_latency_adds_up():
    fast, slow = sync_world(20), sync_world(220)
    r_fast = fast.send_many("POST /orders", BODIES[:3])
    r_slow = slow.send_many("POST /orders", BODIES[:3])
    assert [r.latency_ms for r in r_fast] == [26.0] * 3
    assert [r.latency_ms for r in r_slow] == [226.0] * 3


def test_events_outage_fails_nothing_and_drains_the_backlog():
    world = event_world()
    world.service("shipping").down(1000, 3000)
    seen = []

    def snapshot():
        seen.append(world.backlog("shipping"))

    world.scheduler.at(2999, snapshot)
    responses = world.send_many("POST /orders", BODIES, every_ms=100)
    assert all(r.status == 202 for r in responses)
    assert seen == [20]
    assert world.backlog() == 0
    assert world.service("shipping").db.count("shipments") == 40
    assert world.trace.count("ack", source="shipping") == 40


def test_gateway_bad_input_stores_nothing():
    world = sync_world()
    for body in (None, {}, [], "x", 3, {"x": float("nan")}, {"x": "y" * 70_000}, {"x": {1}}):
        r = world.request("POST /orders", body)
        assert r.status == 400 and r.body["error"]
    assert world.service("orders").db.count("orders") == 0
    assert world.request("GET /nothing").status == 404
    assert world.request("no-method").status == 400
    assert world.request("GET /orders/order-9").status == 404


def test_handler_failure_rolls_back_and_retries_then_dead_letters():
    world = World()
    svc = world.add_service("s")
    calls = []

    @svc.handles("E")
    def boom(event, db):
        db.put("t", "1", {"a": 1})
        calls.append(world.now)
        raise RuntimeError("poison")

    world.publish("E", {"x": 1})
    world.run()
    assert len(calls) == world.retry.max_attempts
    assert svc.db.count("t") == 0
    [dead] = world.dead_letters
    assert dead["attempts"] == world.retry.max_attempts and "poison" in dead["reason"]


def test_topology_comes_from_the_system():
    world = sync_world()
    g = world.topology()
    assert {"client", "gateway", "orders", "orders.db", "shipping", "shipping.db"} == set(g)
    assert "bus" not in g
    world.add_service("billing")
    assert "billing" in world.topology() and "billing.db" in world.topology()
    ev = event_world().topology()
    assert ev.has_edge("gateway", "bus") and ev.has_edge("bus", "shipping")


def test_same_seed_same_trace():
    a, b = event_world(), event_world()
    for w in (a, b):
        w.service("shipping").down(500, 900)
        w.send_many("POST /orders", BODIES[:10])
    assert a.trace.records == b.trace.records


@pytest.mark.parametrize("bad", [-1, float("nan"), "5", None])
def test_latency_must_be_a_number(bad):
    with pytest.raises(ValueError):
        World().add_service("s", latency_ms=bad)


def test_bad_names_and_handlers():
    world = World()
    with pytest.raises(ValueError):
        world.add_service("not a name")
    svc = world.add_service("s")
    with pytest.raises(ValueError):
        world.add_service("s")
    with pytest.raises(TypeError, match="may ask for"):
        svc.handles("E")(lambda event, database: None)
    with pytest.raises(ValueError):
        svc.down(5, 1)
    with pytest.raises(KeyError, match="no service"):
        world.service("nope")
    with pytest.raises(ValueError, match="either calls"):
        world.gateway.route("POST /x")


def _deliveries_never_precede_publishes(world):
    published = {r.ref: r.time for r in world.trace.where("publish")}
    for r in world.trace.where("deliver"):
        assert r.time >= published[r.ref], f"{r} delivered before it was published"


def test_request_from_a_cell_sees_earlier_scheduled_work_first():
    world = event_world()                       # consumers polled at t=0, not yet run
    world.request("POST /orders", {"item": "book"})
    assert world.backlog("shipping") == 1
    world.run()
    _deliveries_never_precede_publishes(world)


def test_event_published_at_the_end_of_a_blocking_call_is_not_seen_earlier():
    world = World()
    a = world.add_service("a", latency_ms=50)
    b = world.add_service("b", latency_ms=1)

    @a.endpoint("create")
    def create(data, publish):
        publish("Created", {"n": 1})
        return {"ok": True}

    @b.handles("Created")
    def on_created(event, db):
        db.put("seen", event.id, {"at": 1})

    world.gateway.route("POST /a", call="a.create")
    early = world.sample(lambda: world.backlog("b") + b.db.count("seen"), every_ms=10, until_ms=40)
    world.send_many("POST /a", [{"x": 1}])
    assert [n for _, n in early] == [0, 0, 0, 0, 0]
    assert b.db.count("seen") == 1
    _deliveries_never_precede_publishes(world)


def test_the_clock_never_goes_back_between_cells():
    world = event_world()
    orders = world.service("orders")
    orders.latency_ms = 30
    orders.endpoint("count")(lambda data, db: {"orders": db.count("orders")})
    world.gateway.route("GET /orders", call="orders.count")
    write = world.request("POST /orders", {"item": "a"})       # orders' handler will finish at 30 ms
    read = world.request("GET /orders")                         # a blocking call: answered at 1 + 1 + 30
    world.run()                                                 # runs the handler, scheduled earlier
    assert world.now >= read.received_ms >= write.received_ms
    again = world.request("GET /orders")
    assert again.sent_ms >= read.received_ms and again.body == {"orders": 1}


def test_is_up_agrees_with_every_outage_window_even_overlapping_ones():
    import random

    world = World()
    svc = world.add_service("s")
    rng = random.Random(1)
    windows = []
    for _ in range(50):
        start = rng.uniform(0, 1000)
        windows.append((start, start + rng.uniform(0.1, 100)))
        svc.down(*windows[-1])
    for _ in range(5000):
        t = rng.uniform(-10, 1200)
        assert svc.is_up(t) == (not any(a <= t < b for a, b in windows))
        if not svc.is_up(t):
            assert svc.is_up(svc.up_again_at(t))
