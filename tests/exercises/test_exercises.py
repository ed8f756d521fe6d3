"""Every notebook's exercises, validated three ways in real kernels (marker ``exercises``).

For each ``notebooks/*.ipynb``: as shipped every check says NOT ATTEMPTED; with the
reference solutions every check says CORRECT; with each typical wrong answer each
check says what that answer must produce. The harness itself is proven first on the
fixture notebooks in ``fixtures/`` (one exercise of each kind, and broken variants).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from edlib.exercises.layout import NotebookLayoutError, code_cells_tagged, exercise_cells, notebooks_in, read_notebook
from edlib.exercises.validate import validate

pytestmark = pytest.mark.exercises

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
COURSE = [p.name for p in notebooks_in(NOTEBOOKS)]
COMPARED = ("text/plain", "text/html")


@pytest.fixture(scope="session")
def validated(summaries):
    """Every course notebook and every fixture notebook, validated once, in parallel."""
    paths = notebooks_in(NOTEBOOKS) + notebooks_in(FIXTURES)
    reports = {r.path: r for r in validate(paths)}
    summaries.extend(("[fixture] " if p.parent == FIXTURES else "") + r.summary() for p, r in reports.items())
    return reports


@pytest.fixture(scope="session")
def course(validated):
    """Reports of the course notebooks, by file name."""
    return {p.name: r for p, r in validated.items() if p.parent == NOTEBOOKS}


@pytest.fixture(scope="session")
def fixtures(validated):
    """Reports of the fixture notebooks, by file name."""
    return {p.name: r for p, r in validated.items() if p.parent == FIXTURES}


# -- the course notebooks ----------------------------------------------------------------
@pytest.mark.parametrize("name", COURSE)
def test_notebook_exercises_validate(course, name):
    report = course[name]
    assert report.ok, report.summary() + "\n" + "\n".join(report.failures)


@pytest.mark.parametrize("name", COURSE)
def test_every_notebook_but_00_has_two_exercises(name):
    nb = read_notebook(NOTEBOOKS / name)
    if not name.startswith("00"):
        assert len(code_cells_tagged(nb)) >= 2, f"{name}: fewer than 2 code cells tagged 'exercise'"
    exercise_cells(nb)  # every exercise cell is followed by its check


# -- the harness, proven on fixtures -----------------------------------------------------------
def test_harness_counts_on_fixtures(fixtures):
    assert sorted(fixtures) == ["00_start.ipynb", "01_fixture.ipynb"]
    for report in fixtures.values():
        assert report.ok, "\n".join(report.failures)
    c = fixtures["01_fixture.ipynb"].counts()
    assert c == {"exercises": 4, "runs": 5, "shipped": 4, "shipped_ok": 4, "solved": 4, "solved_ok": 4,
                 "wrong": 9, "wrong_ok": 9}
    assert fixtures["00_start.ipynb"].counts()["runs"] == 1


def test_fixture_outputs_are_what_a_fresh_run_prints(fixtures):
    """The stored outputs equal a fresh run's, byte for byte, as strict nbval compares them."""
    for name, report in fixtures.items():
        stored = read_notebook(FIXTURES / name)
        fresh = report.runs[0].notebook
        for i, cell in enumerate(stored.cells):
            if cell.cell_type == "code":
                assert _compared(cell) == _compared(fresh.cells[i]), f"{name} cell {i}"


def test_fixture_exercise_cells_are_tagged_and_checked():
    nb = read_notebook(FIXTURES / "01_fixture.ipynb")
    assert [c.name for c in exercise_cells(nb)] == ["q1", "q2", "q3", "q4"]
    assert code_cells_tagged(read_notebook(FIXTURES / "00_start.ipynb")) == []


TINY = """
from edlib.exercises import Incorrect, ValueExercise, WrongAnswer

def _two(value):
    if value != 2:
        raise Incorrect(f"{value} is not two.")

q1 = ValueExercise(notebook="tiny", name="q1", title="two", variable="x", check=_two,
                   solution="x = 2", wrong=[WrongAnswer("x = 3", "is not two")])
q2 = ValueExercise(notebook="tiny", name="q2", title="two again", variable="y", check=_two,
                   solution="y = 2", wrong=[WrongAnswer("y = 3", "a message it never gives")])
"""


def _tiny_notebook(shipped_x: str = "x = ____"):
    v4 = nbformat.v4
    tagged = {"tags": ["exercise"]}
    return v4.new_notebook(cells=[
        v4.new_code_cell("from edlib.exercises import ____\nfrom tiny import q1, q2"),
        v4.new_code_cell(shipped_x, metadata=tagged), v4.new_code_cell("q1.check()"),
        v4.new_markdown_cell("Between the exercise cell and its check, markdown is fine."),
        v4.new_code_cell("y = ____", metadata=tagged), v4.new_markdown_cell("..."), v4.new_code_cell("q2.check()")])


def test_harness_reports_what_is_broken(tmp_path):
    """A shipped cell already solved, a wrong answer's message the check never gives, a crashing
    cell and an exercise cell without its check are each reported, in few kernel runs."""
    (tmp_path / "tiny.py").write_text(TINY)
    nbformat.write(_tiny_notebook("x = 1"), tmp_path / "a_wrong.ipynb")
    crash = _tiny_notebook()
    crash.cells.insert(1, nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(crash, tmp_path / "b_crash.ipynb")
    unchecked = _tiny_notebook()
    unchecked.cells[-1].source = "print('no check here')"
    nbformat.write(unchecked, tmp_path / "c_unchecked.ipynb")

    reports = {r.path.name: r for r in validate(notebooks_in(tmp_path))}
    wrong = reports["a_wrong.ipynb"]
    assert [f.split(":")[:2] for f in wrong.failures] == [["shipped", " q1.check() said INCORRECT"],
                                                         ["wrong 1", " q2.check() said INCORRECT"]]
    assert "expected NOT_ATTEMPTED" in wrong.failures[0]
    assert "expected INCORRECT containing 'a message it never gives'" in wrong.failures[1]
    assert wrong.counts() == {"exercises": 2, "runs": 3, "shipped": 2, "shipped_ok": 1, "solved": 2,
                              "solved_ok": 2, "wrong": 2, "wrong_ok": 1}
    assert not wrong.ok and "FAILED (2 problems)" in wrong.summary()
    assert reports["b_crash.ipynb"].failures == ["shipped: cell 1 raised ZeroDivisionError: division by zero"]
    assert "next code cell does not call exactly one NAME.check()" in reports["c_unchecked.ipynb"].failures[0]


def test_runs_sharing_a_kernel_start_clean(tmp_path):
    """A second run in the same kernel sees no variable, module or progress of the first."""
    import asyncio

    from edlib.exercises.kernels import KernelSession

    (tmp_path / "helper.py").write_text("state = []\n")
    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, edlib, helper\nx = 1\nedlib.marker = 1\nhelper.state.append(1)\n"
        "print(os.environ['EDLIB_PROGRESS'])")])
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, edlib, helper\nprint('x' in globals(), hasattr(edlib, 'marker'), helper.state)\n"
        "print(os.environ['EDLIB_PROGRESS'])")])

    async def both():
        async with KernelSession(tmp_path, tmp_path) as session:
            await session.run(first)
            await session.run(second)
            return session.kernels

    assert asyncio.run(both()) == 1
    out1 = first.cells[0].outputs[0]["text"].splitlines()
    out2 = second.cells[0].outputs[0]["text"].splitlines()
    assert out2[0] == "False False []"
    assert out1[0] != out2[1]  # each run has a progress file of its own


def test_layout_errors_are_named():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = ____", metadata={"tags": ["exercise"]}),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("q1.check()\nq2.check()")])
    with pytest.raises(NotebookLayoutError, match=r"cell 0 is tagged 'exercise'"):
        exercise_cells(nb)


def _compared(cell) -> list:
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out.append((o["name"], o["text"]))
        elif o["output_type"] in ("display_data", "execute_result"):
            out.append({k: v for k, v in o["data"].items() if k in COMPARED})
        else:
            out.append((o["output_type"], o.get("ename"), o.get("evalue")))
    return out
