"""Outage windows (edlib.core.outages): nested, overlapping, adjacent and endless windows,
then every answer against a brute-force definition over random windows."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edlib.core.outages import Outages, check_window

INF = math.inf


# -- the brute-force definitions ----------------------------------------------------------
def brute_up(windows, t):
    """Down at t when some window [a, b) holds t."""
    return not any(a <= t < b for a, b in windows)


def brute_up_again_at(windows, t):
    """Up again at t itself, or at the end of some window (the only times it can come back)."""
    return min(c for c in (t, *(b for _, b in windows)) if c >= t and brute_up(windows, c))


def brute_downtime(windows, horizon, start=0):
    """With whole-number ends, each 1 ms cell [k, k + 1) is down throughout or up throughout."""
    return float(sum(not brute_up(windows, k) for k in range(start, horizon)))


# -- fixed cases --------------------------------------------------------------------------------
def test_a_nested_window_does_not_end_the_outer_one():
    outages = Outages([(0, 1000), (100, 200)])
    assert [outages.is_up(t) for t in (0, 150, 200, 500, 999.9, 1000)] == [False] * 5 + [True]
    assert outages.up_again_at(150) == outages.up_again_at(500) == 1000.0
    assert outages.downtime(2000) == 1000.0                          # the nested window counted once
    assert outages.availability(2000) == 0.5


def test_the_order_the_windows_were_added_does_not_matter():
    for windows in ([(0, 1000), (100, 200)], [(100, 200), (0, 1000)], [(0, 1000), (0, 200)]):
        outages = Outages(windows)
        assert not outages.is_up(500) and outages.up_again_at(300) == 1000.0, windows
        assert outages.downtime(2000) == 1000.0, windows


def test_overlapping_windows_chain_into_one_down_period():
    outages = Outages([(0, 300), (50, 100), (200, 500), (450, 600)])
    assert not any(outages.is_up(t) for t in (0, 75, 150, 250, 400, 550))
    assert outages.up_again_at(10) == 600.0
    assert outages.downtime(1000) == 600.0


def test_adjacent_windows_leave_no_gap():
    outages = Outages([(0, 300), (50, 100), (300, 600)])
    assert not outages.is_up(200) and not outages.is_up(300) and outages.is_up(600)
    assert outages.up_again_at(0) == outages.up_again_at(200) == 600.0
    assert outages.downtime(1000) == 600.0


def test_an_endless_window():
    outages = Outages([(100, INF), (200, 300)])
    assert outages.is_up(50) and not outages.is_up(400) and not outages.is_up(1e12)
    assert outages.up_again_at(250) == outages.up_again_at(400) == INF
    assert outages.up_again_at(50) == 50
    assert outages.downtime(1000) == 900.0 and outages.downtime(1000, start=500) == 500.0
    assert Outages().add(5) == (5.0, INF)


def test_no_windows_means_always_up():
    outages = Outages()
    assert outages.is_up(0) and outages.up_again_at(7) == 7 and outages.downtime(100) == 0.0
    assert outages.availability(100) == 1.0 and not outages and len(outages) == 0


def test_windows_are_kept_as_given_floats():
    outages = Outages([(0, 10)])
    assert outages.add(20, 30) == (20.0, 30.0)
    outages.add(5, 8)
    assert list(outages) == [(0.0, 10.0), (20.0, 30.0), (5.0, 8.0)] and len(outages) == 3 and outages
    assert repr(outages) == "Outages([(0.0, 10.0), (20.0, 30.0), (5.0, 8.0)])"
    assert not outages.is_up(6) and outages.is_up(10) and not outages.is_up(25)   # a window added later counts


@pytest.mark.parametrize("window", [(5, 5), (6, 5), (-1, 3), (True, 3), (0, math.nan), ("0", 3), (None, 3)])
def test_bad_windows_are_refused(window):
    with pytest.raises(ValueError, match="an outage is"):
        check_window(*window)
    with pytest.raises(ValueError, match="an outage is"):
        Outages([window])


def test_availability_needs_a_horizon():
    with pytest.raises(ValueError, match="horizon"):
        Outages([(0, 1)]).availability(0)


# -- against brute force -------------------------------------------------------------------------
windows_st = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(st.integers(1, 40), st.just(INF))).map(lambda w: (w[0], w[0] + w[1])),
    max_size=8)


@settings(max_examples=300, deadline=None)
@given(windows=windows_st, t=st.one_of(st.integers(0, 120), st.floats(0, 120)))
def test_is_up_and_up_again_at_match_brute_force(windows, t):
    outages = Outages(windows)
    assert outages.is_up(t) == brute_up(windows, t)
    assert outages.up_again_at(t) == brute_up_again_at(windows, t)


@settings(max_examples=300, deadline=None)
@given(windows=windows_st, horizon=st.integers(1, 120), start=st.integers(0, 120))
def test_downtime_matches_brute_force(windows, horizon, start):
    outages = Outages(windows)
    assert outages.downtime(horizon, start) == brute_downtime(windows, horizon, start)
    assert outages.availability(horizon) == pytest.approx(1 - brute_downtime(windows, horizon) / horizon)
