"""Notebook hygiene: executed top to bottom, no stray errors, no machine paths, small files."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
MACHINE_PATH = re.compile(r"(/root/|/tmp/|/work/|/home/\w+/|site-packages|[A-Z]:\\\\Users)")
MAX_BYTES = 2_000_000
COURSE_NOTEBOOKS = 18
"""The course is notebooks 00 to 17."""
COURSE_NOTEBOOK = re.compile(r"\d{2}_\w+\.ipynb")


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_the_course_notebooks_are_00_to_17_each_once() -> None:
    names = [p.name for p in NOTEBOOKS]
    numbered = [n for n in names if COURSE_NOTEBOOK.fullmatch(n)]
    assert numbered == names, f"not course notebooks (NN_title.ipynb): {sorted(set(names) - set(numbered))}"
    numbers = [int(n[:2]) for n in numbered]
    assert numbers == list(range(COURSE_NOTEBOOKS)), (
        f"expected one notebook per number 00..{COURSE_NOTEBOOKS - 1:02d}, got {names}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom(path: Path) -> None:
    counts = [c.get("execution_count") for c in _code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..n: regenerate with `make notebooks`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_errors_only_where_expected(path: Path) -> None:
    for i, cell in enumerate(_code_cells(path)):
        tags = cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                assert "raises-exception" in tags, f"{path.name} cell {i}: unexpected {out['ename']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_machine_paths_in_outputs(path: Path) -> None:
    for i, cell in enumerate(_code_cells(path)):
        text = json.dumps(cell.get("outputs", []))
        match = MACHINE_PATH.search(text)
        assert match is None, f"{path.name} cell {i}: output shows a machine path ({match.group(0)})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_small_enough(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
