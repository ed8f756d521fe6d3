"""Fixtures for the bus tests: a real redis-server of our own, and one bus of each kind.

Tests that need Redis carry the ``redis`` marker. Without a ``redis-server`` program they
are skipped with the reason, unless the environment variable ``CI`` is set: then a
missing server is a failure (CI installs it; see ``.ci/run``).
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from edlib.messaging.memory import InMemoryBus
from edlib.messaging.redis_server import MISSING, RedisServer, find_redis_server

_PREFIXES = itertools.count(1)


def require_redis_server() -> str:
    """The redis-server program; skip (or, when CI is set, fail) if it is not installed."""
    program = find_redis_server()
    if program is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} CI is set, so a missing redis-server is an error here, not a skip.")
        pytest.skip(MISSING)
    return program


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server on a free 127.0.0.1 port, without persistence, for the whole session."""
    with RedisServer(require_redis_server()) as server:
        yield server


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses (tests share the server, never their streams)."""
    return f"t{os.getpid()}-{next(_PREFIXES)}"


@pytest.fixture
def redis_bus(redis_server: RedisServer, redis_prefix: str) -> Callable[..., "RedisBus"]:  # noqa: F821
    """Make RedisBus instances on the test's prefix (``consumer=`` names each); closed at the end."""
    from edlib.messaging.redis_streams import RedisBus

    made: list[RedisBus] = []

    def make(**options: object) -> RedisBus:
        options.setdefault("prefix", redis_prefix)
        bus = RedisBus(redis_server.url, **options)  # type: ignore[arg-type]
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def bus(request: pytest.FixtureRequest):
    """One bus of each kind: the contract tests run once per implementation."""
    if request.param == "memory":
        return InMemoryBus()
    return request.getfixturevalue("redis_bus")(consumer="contract")
