"""10,000 events with crashes, duplicate deliveries, restarts and poison events: nothing lost or applied twice."""
import pytest

from edlib.simulation.chaos import run_chaos


@pytest.fixture(scope="module")
def report():
    return run_chaos(events=10_000)


def test_ten_thousand_events_none_lost_none_applied_twice(report):
    assert report.events >= 10_000
    assert report.lost == 0
    assert report.applied_twice == 0


def test_faults_were_really_injected(report):
    assert report.crashes_injected >= 30
    assert report.duplicates_injected >= 100
    assert report.restarts_injected >= 5
    assert report.transient_failures_injected >= 100


def test_every_poison_event_is_dead_lettered_with_reason_and_count(report):
    assert report.poison_sent > 0
    assert report.dead_lettered == report.poison_sent
    assert report.poison_dead_lettered_with_reason == report.poison_sent


def test_the_audit_finds_duplicates_when_consumers_are_not_idempotent():
    assert run_chaos(events=2_000, idempotent=False).applied_twice > 0


def test_the_audit_finds_losses_when_consumers_ack_before_processing():
    assert run_chaos(events=2_000, ack_mode="before").lost > 0
