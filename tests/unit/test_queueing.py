"""The queueing simulation (edlib.simulation.queueing): exact small cases, then theory with fixed seeds."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edlib.simulation.queueing import (
    Station,
    availability_check,
    chain_availability,
    drain_check,
    drain_time_ms,
    mm1_check,
    mm1_percentile_ms,
    mm1_time_in_system_ms,
    mmc_time_in_system_ms,
    percentile,
    random_outages,
    relative_error,
    simulate_events,
    simulate_sync,
)


def const(name, ms, **kw):
    return Station(name, ms, dist="const", **kw)


# -- exact cases: constant service times, evenly spaced arrivals ---------------------------
def test_no_queue_means_latency_is_the_sum_of_service_times():
    run = simulate_sync([const("a", 2), const("b", 5)], rate_per_s=100, n=10, arrivals="even")
    assert [r.latency_ms for r in run.requests] == [7.0] * 10
    assert [r.sent_ms for r in run.requests[:3]] == [10.0, 20.0, 30.0]
    assert run.requests[0].done_ms == {"a": 12.0, "b": 17.0}
    assert run.percentiles() == {50: 7.0, 95: 7.0, 99: 7.0}


def test_an_overloaded_server_makes_each_request_wait_longer():
    # one request every 10 ms, 15 ms each: the k-th waits 5 ms more than the one before
    run = simulate_sync([const("a", 15)], rate_per_s=100, n=6, arrivals="even", track=["a"])
    assert [r.latency_ms for r in run.requests] == [15.0 + 5 * k for k in range(6)]
    assert run.peak_backlog("a")[1] == 3


def test_a_second_server_removes_the_queue():
    run = simulate_sync([const("a", 15, servers=2)], rate_per_s=100, n=6, arrivals="even")
    assert [r.latency_ms for r in run.requests] == [15.0] * 6


def test_sync_requests_fail_while_a_downstream_station_is_down():
    b = const("b", 5).down(500, 1500)
    run = simulate_sync([const("a", 1), b], rate_per_s=10, n=20, arrivals="even")   # sent at 100, 200, ... 2000
    failed = [r for r in run.requests if not r.ok]
    assert [r.sent_ms for r in failed] == [float(t) for t in range(500, 1500, 100)]
    assert {r.failed_at for r in failed} == {"b"}
    assert all(r.latency_ms == 1.0 for r in failed)          # they fail fast, when b is reached
    assert run.success_rate(500, 1500) == 0.0
    assert run.success_rate(1500) == 1.0


def test_requests_queued_at_a_station_fail_when_it_goes_down():
    a = const("a", 50).down(125, 1000)
    run = simulate_sync([a], rate_per_s=100, n=5, arrivals="even")       # sent at 10 ... 50 ms
    assert [(r.ok, r.answered_ms) for r in run.requests] == [(True, 60.0), (True, 110.0), (True, 160.0),
                                                              (False, 125.0), (False, 125.0)]


def test_events_wait_for_a_consumer_that_is_down_and_none_fail():
    shipping = const("shipping", 5).down(500, 1500)
    run = simulate_events(const("gateway", 1), [shipping], rate_per_s=10, n=20, arrivals="even",
                          track=["shipping"])
    assert all(r.ok for r in run.requests)
    assert run.latencies() == [1.0] * 20                     # the client waits for the gateway only
    assert len(run.lags("shipping")) == 20                   # every event handled in the end
    assert run.peak_backlog("shipping", 0, 1500) == (1401.0, 10)   # the events sent at 500 ... 1400 ms wait
    assert run.peak_backlog("shipping") == (1501.0, 11)            # and one more arrives as it restarts
    assert run.backlog_at("shipping", 1000) == 5
    assert run.drain_ms("shipping", 1500) == 55.0                  # eleven events of 5 ms each
    assert max(run.lags("shipping")) == 1505 - 500                 # sent at 500, handled first after the outage


def test_the_client_can_publish_itself():
    run = simulate_events([], [const("c", 3)], rate_per_s=10, n=4, arrivals="even")
    assert run.latencies() == [0.0] * 4 and run.lags("c") == [3.0] * 4


def test_every_consumer_gets_every_event():
    run = simulate_events(const("g", 1), [const("orders", 2), const("shipping", 7)], rate_per_s=50, n=10,
                          arrivals="even")
    assert run.lags("orders") == [3.0] * 10 and run.lags("shipping") == [8.0] * 10


def test_the_same_seed_gives_the_same_run():
    def latencies(seed):
        return simulate_sync([Station("a", 5), Station("b", 8)], 60, 300, seed=seed).latencies()
    assert latencies(1) == latencies(1)
    assert latencies(1) != latencies(2)


def test_warmup_drops_the_first_requests_from_statistics():
    run = simulate_sync([const("a", 15)], rate_per_s=100, n=6, arrivals="even", warmup=4)
    assert run.latencies() == [35.0, 40.0]


def test_a_custom_service_time_distribution():
    run = simulate_sync([Station("a", 4, dist=lambda rng: rng.choice([2.0, 6.0]))], 10, 200, arrivals="even")
    assert set(run.latencies()) == {2.0, 6.0}


def test_throughput_at_saturation():
    shipping = Station("shipping", 20)                        # capacity 50 per second
    sync = simulate_sync([Station("gateway", 1), shipping], 75, 3000, seed=4)
    events = simulate_events(Station("gateway", 1), [shipping], 75, 3000, seed=4, track=["shipping"])
    assert relative_error(sync.throughput_per_s(), 50) < 0.08
    assert relative_error(events.throughput_per_s(), 75) < 0.08            # every request is accepted ...
    assert relative_error(events.throughput_per_s("shipping"), 50) < 0.08  # ... but handled no faster
    assert events.backlog_at("shipping", events.requests[-1].sent_ms) > 500
    assert max(events.latencies()) < 25 < min(sync.latencies()[-100:])


# -- outage windows: nested, overlapping, adjacent, endless ---------------------------------
def up_by_brute_force(windows, t):
    return not any(a <= t < b for a, b in windows)


def desk_up(station):
    """What the engine's desk for ``station`` says, as a function of time."""
    from edlib.simulation.queueing.engine import _Sim
    return _Sim([station], [], 1, 1, 0, "even", []).chain[0].up


def sent_and_ok(station, n=20, rate_per_s=10):
    """Requests sent every 1000 / rate ms, through ``station`` alone; (sent_ms, ok) of each."""
    return [(r.sent_ms, r.ok) for r in simulate_sync([station], rate_per_s, n, arrivals="even").requests]


@pytest.mark.parametrize("outages", [[(0, 1000), (100, 200)], [(100, 200), (0, 1000)]])
def test_a_nested_outage_does_not_bring_a_sync_station_back(outages):
    shipping = Station("shipping", 1.0, dist="const", outages=outages)
    assert not shipping.is_up(500)
    results = sent_and_ok(shipping)                                   # sent at 100, 200, ... 2000
    assert [t for t, ok in results if not ok] == [float(t) for t in range(100, 1000, 100)]
    assert all(ok == shipping.is_up(t) for t, ok in results)
    up = desk_up(shipping)
    assert all(up(t) == shipping.is_up(t) for t in range(0, 2001, 50))


def test_a_nested_outage_keeps_a_consumer_down_until_the_outer_one_ends():
    shipping = const("shipping", 5, outages=[(0, 1000), (100, 200)])
    run = simulate_events(const("gateway", 1), [shipping], rate_per_s=10, n=20, arrivals="even",
                          track=["shipping"])
    assert all(r.ok for r in run.requests)
    assert min(r.done_ms["shipping"] for r in run.requests) == 1005.0      # nothing handled before 1000
    assert run.peak_backlog("shipping", 0, 1000) == (901.0, 9)
    assert run.drain_ms("shipping", 1000) == 50.0


def test_adjacent_and_nested_outages_make_one_down_period():
    station = const("a", 1, outages=[(0, 300), (50, 100), (300, 600)])
    results = sent_and_ok(station)
    assert [t for t, ok in results if not ok] == [float(t) for t in range(100, 600, 100)]
    up = desk_up(station)
    assert [up(t) for t in (0, 200, 300, 599, 600)] == [station.is_up(t) for t in (0, 200, 300, 599, 600)] \
        == [False, False, False, False, True]


def test_an_endless_outage_with_a_shorter_one_inside():
    station = const("a", 1).down(500, 700).down(300)                 # down from 300 for good
    results = sent_and_ok(station)
    assert [t for t, ok in results if ok] == [100.0, 200.0]
    up = desk_up(station)
    assert not up(800) and not station.is_up(800) and not up(1e9)
    assert station.availability(1000) == pytest.approx(0.3)


def test_station_availability_counts_overlaps_once():
    station = Station("a", 1, outages=[(0, 1000), (100, 200), (900, 1500)])
    assert station.availability(2000) == pytest.approx(0.25)
    assert station.outage_windows.downtime(2000) == 1500.0


def test_a_station_keeps_the_windows_it_was_given():
    windows = [(0, 10)]
    station = Station("a", 1.0, outages=windows)
    assert station.outages is windows and station.down(20, 30) is station
    assert station.outages == [(0, 10), (20.0, 30.0)]
    assert not station.is_up(25) and station.outage_windows.up_again_at(5) == 10.0
    station.outages.append((40, 50))                                 # edited in place: still one answer
    assert not station.is_up(45) and not desk_up(station)(45)
    assert Station("a", 1.0, outages=[(0, 10)]) == Station("a", 1.0, outages=[(0, 10)])
    assert Station("b", 1.0, outages=((0, 10),)).outages == [(0, 10)]


@settings(max_examples=60, deadline=None)
@given(windows=st.lists(st.tuples(st.integers(0, 40), st.one_of(st.integers(1, 20), st.just(math.inf)))
                        .map(lambda w: (10 * w[0], 10 * (w[0] + w[1]))), max_size=6))
def test_sync_requests_fail_exactly_while_the_station_is_down(windows):
    # one request every 10 ms, served in 1 ms: it fails if and only if it arrives during an outage
    station = const("a", 1, outages=windows)
    up = desk_up(station)
    for sent, ok in sent_and_ok(station, n=60, rate_per_s=100):
        assert ok == up_by_brute_force(windows, sent) == station.is_up(sent) == up(sent), (sent, windows)


# -- theory, with fixed seeds ---------------------------------------------------------------
def test_theory_formulas():
    assert mm1_time_in_system_ms(50, 10) == pytest.approx(20.0)
    assert mm1_time_in_system_ms(100, 10) == math.inf
    assert mmc_time_in_system_ms(50, 10, 1) == pytest.approx(20.0)
    assert mmc_time_in_system_ms(100, 10, 2) == pytest.approx(10 + 10 * 1 / 3)   # Erlang C: P(wait) = 1/3
    assert mm1_percentile_ms(50, 10, 50) == pytest.approx(20 * math.log(2))
    assert drain_time_ms(4000, 0.8) == pytest.approx(16000)
    assert drain_time_ms(4000, 1.0) == math.inf
    assert chain_availability([0.99, 0.9]) == pytest.approx(0.891)
    assert relative_error(105, 100) == pytest.approx(0.05)


def test_mm1_mean_time_in_system_matches_theory():
    (row,) = mm1_check((0.5,), service_ms=10, customers=20_000, warmup=1_000)
    assert row["theory_mean_ms"] == 20.0
    assert row["rel_error"] < 0.05


def test_mm1_percentiles_match_theory():
    run = simulate_sync([Station("a", 10)], 50, 20_000, seed=7, warmup=1_000)
    for p, value in run.percentiles().items():
        assert relative_error(value, mm1_percentile_ms(50, 10, p)) < 0.05, p


def test_md1_mean_matches_pollaczek_khinchine():
    rho, service = 0.6, 10.0
    run = simulate_sync([Station("a", service, dist="const")], rho * 100, 20_000, seed=3, warmup=1_000)
    expected = service + rho * service / (2 * (1 - rho))
    assert relative_error(run.mean_latency_ms(), expected) < 0.05


def test_mmc_mean_matches_erlang_c():
    run = simulate_sync([Station("a", 10, servers=3)], 240, 20_000, seed=5, warmup=1_000)   # rho = 0.8
    assert relative_error(run.mean_latency_ms(), mmc_time_in_system_ms(240, 10, 3)) < 0.05


def test_backlog_drains_in_d_rho_over_one_minus_rho():
    row = drain_check(0.5, 4000, service_ms=10, reps=10, seed=1)
    assert row["theory_drain_ms"] == 4000
    assert row["rel_error"] < 0.10


def test_sync_chain_availability_is_the_product():
    row = availability_check({"gateway": 0.99, "orders": 0.97, "shipping": 0.9}, rate_per_s=10,
                             horizon_ms=300_000, mean_outage_ms=100, seed=2)
    assert row["theory_success"] == pytest.approx(0.99 * 0.97 * 0.9)
    assert row["rel_error"] < 0.02


def test_random_outages_take_the_asked_fraction_of_time():
    windows = random_outages(0.9, 200, 1_000_000, seed=3)
    assert all(a < b <= c for (a, b), (c, _) in zip(windows, windows[1:], strict=False))
    down = sum(min(e, 1_000_000) - s for s, e in windows)
    assert abs(down / 1_000_000 - 0.1) < 0.01
    assert random_outages(1.0, 200, 1000) == []


def test_percentile_interpolates():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5], 0) == 1 and percentile([1, 2, 3, 4, 5], 100) == 5
    assert percentile([10, 20], 95) == pytest.approx(19.5)
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1], 101)


# -- bad arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"name": "no name", "service_ms": 1}, "a word"),
    ({"name": "a", "service_ms": 0}, "service_ms"),
    ({"name": "a", "service_ms": 1, "servers": 0}, "servers"),
    ({"name": "a", "service_ms": 1, "dist": "normal"}, "dist"),
    ({"name": "a", "service_ms": 1, "outages": [(5, 5)]}, "outage"),
])
def test_bad_stations_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Station(**kwargs)


def test_bad_runs_are_refused():
    a = Station("a", 1)
    with pytest.raises(ValueError, match="rate_per_s"):
        simulate_sync([a], 0, 10)
    with pytest.raises(ValueError, match="n must be"):
        simulate_sync([a], 10, 0)
    with pytest.raises(ValueError, match="warmup"):
        simulate_sync([a], 10, 10, warmup=10)
    with pytest.raises(ValueError, match="arrivals"):
        simulate_sync([a], 10, 10, arrivals="bursty")
    with pytest.raises(ValueError, match="unknown stations"):
        simulate_sync([a], 10, 10, track=["b"])
    with pytest.raises(ValueError, match="must differ"):
        simulate_sync([a, Station("a", 2)], 10, 10)
    with pytest.raises(ValueError, match="at least one station"):
        simulate_sync([], 10, 10)
    with pytest.raises(ValueError, match="consumer"):
        simulate_events(a, [], 10, 10)
    with pytest.raises(KeyError, match="not tracked"):
        simulate_sync([a], 10, 10).backlog_series("a")


# -- the benchmarks built on it ----------------------------------------------------------------
def test_bench_queueing_reports_each_load_against_theory():
    from edlib.bench.queueing import measure
    row = measure(reps={0.5: 1}, customers=5_000, warmup=500)
    assert row["rho"] == [0.5] and row["theory_mean_ms"] == [20.0] and row["customers"] == [5_000]
    assert row["max_rel_error"] == row["rel_error"][0] < 0.1


def test_bench_notebooks_reads_cell_times_from_junit(tmp_path):
    from edlib.bench.notebooks import cell_times
    xml = tmp_path / "r.xml"
    xml.write_text('<testsuites><testsuite>'
                   '<testcase classname="notebooks.02_sync.ipynb" name="Cell 0" time="1.5" />'
                   '<testcase classname="notebooks.02_sync.ipynb" name="Cell 1" time="0.25"><failure /></testcase>'
                   '</testsuite></testsuites>')
    assert cell_times(xml, ["02_sync.ipynb"]) == [("02_sync.ipynb", "Cell 0", 1.5, True),
                                                  ("02_sync.ipynb", "Cell 1", 0.25, False)]
