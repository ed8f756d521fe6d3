"""Print the exercise harness's one-line summaries at the end of the pytest run.

The run is spread over two worker processes (``-n 2`` in ``pyproject.toml``): the worker
that validated the exercises hands its lines to the main process, which prints them.
"""
from __future__ import annotations

import pytest

SUMMARIES: list[str] = []
_KEY = "exercise_summaries"


@pytest.fixture(scope="session")
def summaries() -> list[str]:
    """Lines for the terminal summary (one per validated notebook)."""
    return SUMMARIES


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:                       # a pytest-xdist worker: send the lines home
        workeroutput[_KEY] = list(SUMMARIES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:          # pytest-xdist: a worker finished
    SUMMARIES.extend(getattr(node, "workeroutput", {}).get(_KEY, []))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if SUMMARIES:
        terminalreporter.section("exercises")
        for line in SUMMARIES:
            terminalreporter.write_line(line)
