"""How exercises sit in a notebook, and notebook variants built from that layout.

An exercise cell is a code cell tagged ``exercise``; the next code cell calls
``NAME.check()``, and that name maps the cell to its exercise. A *variant* is a copy of
the notebook with exercise cells replaced (by a solution, or a wrong answer) and one
extra cell at the end that prints, as JSON, what the kernel knows about the exercises
(:func:`~edlib.exercises.registry.report`).
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAG = "exercise"
"""The cell tag of an exercise cell."""

CHECK_CALL = re.compile(r"\b([A-Za-z_]\w*)\.check\(\s*\)")
REPORT_MARK = "<<edlib-exercises>>"


class NotebookLayoutError(ValueError):
    """An exercise cell is not followed by exactly one check call, or two share one."""


@dataclass(frozen=True)
class ExerciseCell:
    """An exercise cell (its index among all cells), its check cell, and the exercise's name."""

    index: int
    check_index: int
    name: str


def read_notebook(path: Path | str) -> Any:
    """The notebook at ``path`` (nbformat v4)."""
    import nbformat

    return nbformat.read(str(path), as_version=4)


def notebooks_in(directory: Path | str) -> list[Path]:
    """The ``*.ipynb`` files of ``directory``, sorted."""
    return sorted(Path(directory).glob("*.ipynb"))


def code_cells_tagged(nb: Any, tag: str = TAG) -> list[int]:
    """Indexes of the code cells carrying ``tag``."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and tag in c.get("metadata", {}).get("tags", [])]


def exercise_cells(nb: Any) -> list[ExerciseCell]:
    """Each exercise cell with the exercise named by the next code cell's ``.check()``."""
    found: list[ExerciseCell] = []
    for i in code_cells_tagged(nb):
        nxt = next((j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"), None)
        calls = CHECK_CALL.findall(nb.cells[nxt].source) if nxt is not None else []
        if len(calls) != 1 or nxt is None:  # (no next code cell: no calls either)
            raise NotebookLayoutError(f"cell {i} is tagged {TAG!r}, but the next code cell does not call "
                                      f"exactly one NAME.check() (found {calls or 'none'})")
        if any(f.name == calls[0] for f in found):
            raise NotebookLayoutError(f"two exercise cells are checked by {calls[0]}.check()")
        found.append(ExerciseCell(i, nxt, calls[0]))
    return found


def variant(nb: Any, cells: Sequence[ExerciseCell], replacements: dict[str, str],
            through_last_check: bool = False) -> Any:
    """A copy of ``nb`` with exercise cells replaced (by check name) and a report cell appended.

    ``through_last_check`` drops the cells after the last check cell (they cannot change
    a verdict), which keeps runs of wrong answers short.
    """
    import nbformat

    out = copy.deepcopy(nb)
    for cell in cells:
        if cell.name in replacements:
            out.cells[cell.index].source = replacements[cell.name]
    if through_last_check and cells:
        del out.cells[max(c.check_index for c in cells) + 1:]
    names = json.dumps(sorted(c.name for c in cells))
    out.cells.append(nbformat.v4.new_code_cell(
        "import json as _edlib_json\n"
        "from edlib.exercises.registry import report as _edlib_report\n"
        f"print({REPORT_MARK!r} + _edlib_json.dumps(_edlib_report({names}, globals())))"))
    return out


def report_from(nb: Any) -> dict[str, Any]:
    """What the report cell of an executed variant printed."""
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(REPORT_MARK):
                return json.loads(line[len(REPORT_MARK):])
    raise RuntimeError("the report cell printed nothing")
