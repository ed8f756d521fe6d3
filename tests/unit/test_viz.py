"""edlib.viz: pictures drawn from the running system, the live view's state and frames, bad input."""
import io
import itertools
import math
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from edlib import World  # noqa: E402
from edlib.core.trace import Trace, TraceRecord  # noqa: E402
from edlib.course.scenarios import event_shop, order_bodies, sync_shop  # noqa: E402
from edlib.viz import LiveView, draw_timeline, draw_topology, live_view  # noqa: E402
from edlib.viz.frames import FrameRenderer  # noqa: E402
from edlib.viz.graph import complete_with, topology_of  # noqa: E402
from edlib.viz.layout import layered_layout  # noqa: E402
from edlib.viz.playback import Playback  # noqa: E402
from edlib.viz.png import encode_png  # noqa: E402
from edlib.viz.scene import Scene  # noqa: E402

OUTAGE = (1000.0, 3000.0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def outage_world(n: int = 40, samples: bool = False):
    """Notebook 03's experiment: shipping down during OUTAGE while orders keep coming."""
    world = event_shop(seed=1)
    world.service("shipping").down(*OUTAGE)
    sampled = world.sample(lambda: (world.backlog("shipping"), world.service("shipping").db.rows(),
                                    world.service("shipping").is_up()), every_ms=50, until_ms=5000,
                           start_ms=12.5) if samples else None  # between records: no ties
    world.send_many("POST /orders", order_bodies(n), every_ms=100)
    return (world, sampled) if samples else world


def failing_world():
    """Three services; billing's handler fails on one order until it is a dead letter."""
    world = event_shop(seed=1)
    billing = world.add_service("billing", 8)

    @billing.handles("OrderPlaced")
    def bill(event, db):
        if event.data["item"].startswith("mug"):
            raise ValueError("card declined")
        db.put("invoices", event.data["order_id"], event.data)

    world.send_many("POST /orders", order_bodies(6), every_ms=100)
    return world


def labels(fig) -> set[str]:
    return {t.get_text() for ax in fig.axes for t in ax.texts}


# -- the topology, drawn from the world -------------------------------------------
def test_topology_is_drawn_from_the_world_and_shows_a_new_service():
    world = event_shop(seed=1)
    assert labels(draw_topology(world)) >= set(world.topology().nodes)
    assert "billing" not in labels(draw_topology(world))
    billing = world.add_service("billing")
    billing.handles("OrderPlaced")(lambda event, db: None)
    assert {"billing", "billing.db"} <= labels(draw_topology(world))


def test_topology_draws_on_a_given_axes_and_returns_its_figure():
    fig, ax = plt.subplots()
    assert draw_topology(sync_shop(), ax=ax, title="sync") is fig
    assert ax.get_title() == "sync"


def test_topology_needs_a_world_or_a_graph():
    with pytest.raises(TypeError, match="World or a networkx DiGraph"):
        draw_topology("orders")
    graph = nx.DiGraph()
    graph.add_node("x", role="printer")
    with pytest.raises(ValueError, match="role 'printer'"):
        draw_topology(graph)


@pytest.mark.parametrize("world", [event_shop(), sync_shop(), failing_world()], ids=["events", "sync", "dead"])
def test_layout_reads_left_to_right_and_never_overlaps(world):
    graph = topology_of(world)
    pos = layered_layout(graph)
    assert pos == layered_layout(graph.copy())  # deterministic
    assert pos["client"][0] < pos["gateway"][0] < min(pos[s][0] for s in world.services)
    for name in world.services:
        assert pos[f"{name}.db"] == (pos[name][0] + 1.0, pos[name][1])
    if "bus" in pos:
        assert pos["gateway"][0] < pos["bus"][0] < pos["orders"][0]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    scene = Scene(graph, ax)
    for a, b in itertools.combinations(sorted(graph), 2):
        (xa, ya), (wa, ha) = scene.pos[a], scene.half[a]
        (xb, yb), (wb, hb) = scene.pos[b], scene.half[b]
        assert abs(xa - xb) >= wa + wb or abs(ya - yb) >= ha + hb, f"{a} and {b} overlap"


def test_the_bus_moves_off_a_sync_call_that_would_cross_it():
    world = World()
    for name in ("audit", "orders", "shipping"):
        service = world.add_service(name)
        service.endpoint("create")(lambda data, db: {})
        if name != "shipping":
            service.handles("OrderPlaced")(lambda event, db: None)
    world.gateway.route("POST /orders", call=["orders.create", "shipping.create"])
    world.gateway.route("POST /audits", publish="OrderPlaced")
    pos = layered_layout(topology_of(world))
    gx, gy = pos["gateway"]
    for target in ("orders", "shipping"):
        tx, ty = pos[target]
        bx, by = pos["bus"]
        y_at_bus = gy + (ty - gy) * (bx - gx) / (tx - gx)
        assert abs(y_at_bus - by) >= 0.3


def fan_out_world() -> World:
    """orders calls email and payments: three services in one column, two calls from the top one."""
    world = World()
    for name in ("email", "payments"):
        world.add_service(name).endpoint("do")(lambda data, db: {})
    orders = world.add_service("orders")

    @orders.endpoint("place")
    def place(data, db, service):
        service.call("email", "do", {})
        service.call("payments", "do", {})
        return {}

    world.gateway.route("POST /orders", call="orders.place")
    world.request("POST /orders", {"item": "book"})
    return world


def test_a_call_past_other_services_bends_around_them_and_markers_follow_it():
    world = fan_out_world()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    scene = Scene(topology_of(world), ax)
    assert [n for n, _ in sorted(scene.pos.items(), key=lambda kv: -kv[1][1]) if n in world.services][:2] == [
        "orders", "email"]
    assert scene.route("orders", "email")[2] == (0.0, 0.0)          # next to each other: straight
    start, end, bend = scene.route("orders", "payments")             # past email: bent to the left
    assert bend[0] < 0 and bend[1] == 0.0
    (ex, _), (hw, _) = scene.pos["email"], scene.half["email"]
    middle = [(start[k] + end[k]) / 2 + bend[k] / 2 for k in (0, 1)]   # the curve at f = 1/2
    assert middle[0] < ex - hw, "the bent path still runs through email's box"
    renderer = FrameRenderer(Playback(world.trace.records, sorted(world.services), travel_ms=10), topology_of(world))
    start, end, bend = renderer.scene.route("orders", "payments")
    hop = next(i for i, r in enumerate(renderer.playback.hops) if (r.source, r.target) == ("orders", "payments"))
    renderer._move_markers(renderer.playback.hop_starts[hop] + renderer.playback.travel_ms / 2)
    middle = [(start[k] + end[k]) / 2 + bend[k] / 2 for k in (0, 1)]
    assert any(math.isclose(x, middle[0]) and math.isclose(y, middle[1]) for x, y in renderer._markers.get_offsets())


# -- the timeline -------------------------------------------------------------------
def test_timeline_draws_one_row_per_record_in_the_window():
    world = outage_world()
    fig = draw_timeline(world.trace, start_ms=900, end_ms=1150, title="outage")
    ax = fig.axes[0]
    chosen = [r for r in world.trace if 900 <= r.time <= 1150]
    assert ax.get_ylim()[0] == pytest.approx(len(chosen) - 0.3)
    assert "down" in {t.get_text().strip() for t in ax.texts}


def test_timeline_keeps_a_ref_and_says_how_many_it_left_out():
    world = outage_world()
    fig = draw_timeline(world.trace, refs="evt-3")
    assert all("evt-3" in t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("deliver"))
    fig = world.timeline(max_records=10)
    assert any(f"{len(world.trace) - 10} more records" in t.get_text() for t in fig.axes[0].texts)


def test_timeline_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="no trace records to draw"):
        draw_timeline(Trace())
    with pytest.raises(ValueError, match="no trace records to draw"):
        draw_timeline(outage_world().trace, start_ms=1e9)
    with pytest.raises(ValueError, match="max_records"):
        draw_timeline(outage_world().trace, max_records=0)
    with pytest.raises(TypeError, match="TraceRecord"):
        draw_timeline([("not", "a", "record")])


# -- the playback index: state at any time, from the trace alone --------------------------
def test_state_from_the_trace_matches_the_world_at_every_sampled_moment():
    world, sampled = outage_world(samples=True)
    playback = Playback(world.trace.records, sorted(world.services), travel_ms=50)
    for t, (backlog, rows, up) in sampled:
        state = {s.service: s for s in playback.services_at(t)}["shipping"]
        assert (state.backlog, state.rows, state.up) == (backlog, rows, up), f"at t={t}"
    assert max(b for _, (b, _, _) in sampled) > 10  # the outage did build a backlog


def test_dead_letters_leave_the_backlog_and_are_counted():
    world = failing_world()
    playback = Playback(world.trace.records, sorted(world.services), travel_ms=10)
    end = {s.service: s for s in playback.services_at(playback.end)}
    assert playback.dead_letters_at(playback.end) == len(world.dead_letters) == 1
    assert end["billing"].backlog == world.backlog("billing") == 0
    assert end["billing"].rows == world.service("billing").db.rows() == 5


def test_markers_in_flight_and_steps():
    records = [TraceRecord(t, "publish", "gateway", "bus", "X", f"evt-{i}", seq=i)
               for i, t in enumerate([0.0, 10.0, 10.0, 50.0])]
    playback = Playback(records, [], travel_ms=20)
    a, b = playback.in_flight(15.0)
    assert [r.ref for r in playback.hops[a:b]] == ["evt-0", "evt-1", "evt-2"]
    a, b = playback.in_flight(25.0)
    assert [r.ref for r in playback.hops[a:b]] == ["evt-1", "evt-2"]
    assert playback.next_stop(0.0) == 10.0 and playback.next_stop(10.0) == 20.0
    assert playback.next_stop(60.0) == playback.end == 70.0


def test_key_times_include_the_outage_and_the_end():
    world = outage_world()
    playback = Playback(world.trace.records, sorted(world.services), travel_ms=100)
    times = playback.key_times(4)
    assert len(times) == 4 and times == sorted(times) and times[-1] == playback.end
    down = [t for t in times if not {s.service: s for s in playback.services_at(t)}["shipping"].up]
    assert down, f"no still shows shipping down: {times}"


def test_a_service_that_starts_up_is_not_a_recovery_and_no_still_precedes_the_start():
    world = outage_world()
    started = [TraceRecord(0.0, "state", s, s, "up") for s in sorted(world.services)]    # processes starting
    playback = Playback(started + world.trace.records, sorted(world.services), travel_ms=100)
    times = playback.key_times(4)
    assert all(playback.start <= t <= playback.end for t in times), times
    assert times == Playback(world.trace.records, sorted(world.services), travel_ms=100).key_times(4)


# -- frames --------------------------------------------------------------------------
def renderer_for(world, blit=True, travel_ms=100.0):
    graph = complete_with(topology_of(world), world.trace.records, strict=False)
    services = [n for n, role in graph.nodes(data="role") if role == "service"]
    return FrameRenderer(Playback(world.trace.records, services, travel_ms), graph, blit=blit)


def test_frames_are_deterministic_png_of_the_standard_size():
    world = outage_world()
    first, second = renderer_for(world), renderer_for(outage_world())
    for t in (0.0, 1050.0, 2950.0, 3100.0):
        png = first.render(t)
        assert png == second.render(t) == first.render(t)
        assert Image.open(io.BytesIO(png)).size == (700, 350)
    assert first.render(1050.0) != first.render(1100.0)  # markers moved


def test_blitted_frames_equal_a_full_redraw():
    world = failing_world()
    fast, slow = renderer_for(world, travel_ms=30), renderer_for(world, blit=False, travel_ms=30)
    for t in np.linspace(0, fast.playback.end, 9):
        assert np.array_equal(fast.draw(t, annotate=True), slow.draw(t, annotate=True)), f"t={t}"


def test_png_encoding_round_trips():
    rgba = np.random.default_rng(1).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(rgba))).convert("RGB"))
    assert np.array_equal(decoded, rgba[:, :, :3])
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((3, 3)))


# -- the live view ---------------------------------------------------------------------
def test_live_view_bad_input_is_a_clear_error():
    world = outage_world()
    with pytest.raises(ValueError, match="the trace is empty"):
        LiveView.replay(Trace())
    with pytest.raises(ValueError, match="the trace is empty"):
        LiveView.replay([])
    for speed in (0, -1, math.nan, math.inf, "fast"):
        with pytest.raises(ValueError, match="speed must be a number > 0"):
            LiveView(world, speed=speed)
    with pytest.raises(ValueError, match="travel_ms"):
        LiveView(world, travel_ms=0)
    with pytest.raises(ValueError, match="fps"):
        LiveView(world, fps=0)
    with pytest.raises(ValueError, match="log_rows"):
        LiveView(world, log_rows=0)
    with pytest.raises(ValueError, match="not in the system: 'billing'"):
        LiveView.replay(failing_world().trace, event_shop())
    with pytest.raises(ValueError, match="tracing is off"):
        LiveView(World(trace=False))
    with pytest.raises(TypeError, match="World or a Trace"):
        LiveView(42)
    view = LiveView(world)
    with pytest.raises(ValueError, match="speed"):
        view.speed = 0


def test_unknown_nodes_in_a_replayed_trace_are_named():
    bad = [TraceRecord(0.0, "request", "client", "gateway"), TraceRecord(1.0, "call", "gateway", "no such!")]
    with pytest.raises(ValueError, match="'no such!'"):
        LiveView.replay(bad)


def test_live_view_text_is_deterministic_and_carries_a_still():
    view, again = LiveView(outage_world()), live_view(outage_world())
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == repr(view) == repr(again)
    assert "0x" not in repr(view) and "362 trace records" in repr(view)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert Image.open(io.BytesIO(bundle["image/png"])).size == (2 * 700 + 6, 2 * 350 + 6)
    assert view.still().data == again.still().data


def test_scrubbing_updates_the_picture_the_log_and_the_state():
    view = LiveView(outage_world(), log_rows=5)
    view.show(2000.0)
    assert view.time == 2000.0 and view.time_slider.value == 2000.0 and "2000.0 ms" in view.clock.value
    assert "DOWN" in view.state_panel.value and view.log_panel.value.count("\n") == 5
    seen_at_2000 = view.log_panel.value
    image = view.image.value
    view.time_slider.value = 500.0  # as when the learner drags the slider
    assert view.time == 500.0 and view.image.value != image and "DOWN" not in view.state_panel.value
    view.show(2000.0)
    assert view.log_panel.value == seen_at_2000
    view.show(1e9)
    assert view.time == view._playback.end


def test_step_moves_to_the_next_record_and_pauses():
    view = LiveView(outage_world())
    before = view.time
    view.step()
    after = view.time
    assert after > before and not view.playing
    view.step()
    assert view.time > after


def test_play_advances_in_the_background_and_pause_stops_it():
    view = LiveView(outage_world(), speed=2000.0)
    view.play()
    deadline = time.monotonic() + 10
    while view.time <= view._playback.start and time.monotonic() < deadline:
        time.sleep(0.02)
    assert view.playing and view.time > view._playback.start
    assert view.play_button.description == "Pause"
    view.pause()
    stopped = view.time
    time.sleep(0.1)
    assert not view.playing and view.time == stopped and view.play_button.description == "Play"
    view.close()


def test_the_view_follows_the_world_as_it_runs():
    world = event_shop(seed=1)
    view = LiveView(world)
    assert repr(view) == "LiveView(2 services, 0 trace records, 0-0 ms)"
    world.send_many("POST /orders", order_bodies(3), every_ms=100)
    view._after_cell()  # what IPython calls after each cell
    assert f"{len(world.trace)} trace records" in repr(view)
    assert view.time_slider.max == view._playback.end > 200
    billing = world.add_service("billing")
    billing.handles("OrderPlaced")(lambda event, db: None)
    world.send_many("POST /orders", order_bodies(1), every_ms=100)
    view.show(view._playback.end)
    assert "billing" in view.state_panel.value
    seen = repr(view)
    view.close()
    world.send_many("POST /orders", order_bodies(1), every_ms=100)
    assert repr(view) == seen  # closed: no longer following


def test_a_crash_shows_on_its_lane_and_the_live_view_takes_it():
    world = event_shop(seed=1)
    world.service("shipping").crash_plan[3] = ("after_commit", 300)
    world.send_many("POST /orders", order_bodies(8), every_ms=100)
    texts = {t.get_text().strip() for t in world.timeline(start_ms=190, end_ms=560).axes[0].texts}
    assert {"crash", "down", "up"} <= texts
    view = LiveView(world)
    view.show(300.0)
    assert "DOWN" in view.state_panel.value
