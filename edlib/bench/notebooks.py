"""``python -m edlib.bench notebooks``: the whole strict nbval run of the suite, timed.

It runs ``python -m pytest notebooks/`` in a subprocess from the course folder, with the
project's settings (``pyproject.toml``'s strict nbval options and its two worker processes,
each notebook whole on one of them; ``notebooks/conftest.py``'s kernel environment),
exactly as ``make nbval`` does, and times it with the wall clock.
A JUnit report of the same run gives the time of every cell, so the line also names the
slowest notebooks and cells (what to make faster). The goal: the whole suite in at most
45 s on a 2-core machine.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from edlib.bench import benchmark

ROOT = Path(__file__).resolve().parents[2]
"""The course folder (the one holding ``notebooks/`` and ``pyproject.toml``)."""

GOAL_S = 45.0


def cell_times(junit_xml: Path, names: list[str]) -> list[tuple[str, str, float, bool]]:
    """``(notebook, cell, seconds, passed)`` for every test case of a JUnit report.

    A case's time covers its setup, call and teardown; its ``classname`` is its file's
    path with dots (``notebooks.02_x.ipynb``), matched to the notebook name it ends with.
    """
    rows = []
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        where = case.get("classname", "")
        notebook = next((n for n in names if where.endswith(n)), where)
        passed = case.find("failure") is None and case.find("error") is None
        rows.append((notebook, case.get("name", ""), float(case.get("time", 0.0)), passed))
    return rows


def measure(args: list[str] | None = None, top: int = 5) -> dict:
    """Run strict nbval over ``notebooks/`` once; wall seconds, pass/fail, slowest notebooks and cells.

    ``args``: extra pytest arguments (for example ``["-n", "0"]``: one process, for comparison).
    """
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="edlib-bench-") as scratch:
        junit = Path(scratch) / "nbval.xml"
        command = [sys.executable, "-m", "pytest", "notebooks/", "-q", f"--junitxml={junit}", *(args or [])]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        cells = cell_times(junit, [p.name for p in notebooks]) if junit.exists() else []
    per_notebook: dict[str, float] = defaultdict(float)
    for notebook, _, s, _ in cells:
        per_notebook[notebook] += s
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:]
    return {"notebooks": len(notebooks), "seconds": round(seconds, 1), "ok": done.returncode == 0,
            "goal_s": GOAL_S, "pytest": summary,
            "failed": [f"{n} {c}" for n, c, _, passed in cells if not passed],
            "per_notebook_s": {n: round(s, 2) for n, s in sorted(per_notebook.items())},
            "slowest_cells": [[n, c, round(s, 2)] for n, c, s, _ in sorted(cells, key=lambda r: -r[2])[:top]]}


@benchmark("notebooks")
def notebooks() -> dict:
    """One JSON line: notebooks, seconds (plus ok, the pytest summary, per-notebook and slowest-cell times)."""
    return measure()
