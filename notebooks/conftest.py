"""Strict nbval settings for `python -m pytest notebooks/`: the same as `make notebooks`.

Notebook 16 runs a real Redis: where `redis-server` is not installed its cells are
skipped with the reason, unless the environment variable CI is set (CI installs it):
then they fail, saying so.
"""
from __future__ import annotations

import os

import pytest

from edlib.course.execute import prepare_environment

prepare_environment()

NEEDS_REDIS = ("16_",)
"""Notebooks (by name prefix) that need the redis-server program."""

_MISSING = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from edlib.messaging.redis_server import MISSING, find_redis_server

    if find_redis_server() is not None:
        return
    for item in items:
        if item.path.name.startswith(NEEDS_REDIS):
            if os.environ.get("CI"):
                item.stash[_MISSING] = MISSING
            else:
                item.add_marker(pytest.mark.skip(reason=f"{item.path.name} needs a broker: {MISSING}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = item.stash.get(_MISSING, None)
    if missing:
        pytest.fail(f"{item.path.name} needs a broker: {missing} CI is set, so this is a failure, not a skip.",
                    pytrace=False)
