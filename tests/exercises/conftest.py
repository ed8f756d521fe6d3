"""Print the exercise harness's one-line summaries at the end of the pytest run."""
from __future__ import annotations

import pytest

SUMMARIES: list[str] = []


@pytest.fixture(scope="session")
def summaries() -> list[str]:
    """Lines for the terminal summary (one per validated notebook)."""
    return SUMMARIES


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if SUMMARIES:
        terminalreporter.section("exercises")
        for line in SUMMARIES:
            terminalreporter.write_line(line)
