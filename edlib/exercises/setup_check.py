"""The first code cell of every notebook: is this kernel set up for this notebook?

``setup(notebook="02", requires="0.1")`` checks that the edlib in the kernel is a
version the notebook was written for, that Python is recent enough, that the packages
the notebook uses can be imported, and that the notebook's exercises load. Anything
wrong is said plainly as a *setup problem, not your answer*, and later checks say the
same instead of marking answers incorrect.

When ``import edlib`` itself fails nothing of edlib can run, so the first cell guards
the import itself (see :data:`FIRST_CELL`).
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path

FIRST_CELL = '''\
try:
    from edlib.exercises import ____, progress, setup
except Exception as error:  # edlib is missing or too old: a setup problem, not your answer
    raise RuntimeError(f"SETUP PROBLEM (not your answer): cannot load the course helper edlib ({error}). "
                       "In the course folder run `make lab` (or `pip install -e .`), then restart the kernel.") from None
setup(notebook="02", requires="0.1")
from edlib.exercises.checks.nb02 import q1, q2'''  # noqa: E501 (the cell as notebooks have it)
"""The exact first code cell a notebook uses (with its own number and exercises)."""

MIN_PYTHON = (3, 11)
FIX = "In the course folder run `make lab` (or `pip install -e .`), then restart the kernel."

_state: dict[str, str | None] = {"problem": None, "notebook": None}


class SetupError(RuntimeError):
    """The kernel is not set up for this notebook. Shown without a traceback in Jupyter."""

    def _render_traceback_(self) -> list[str]:
        return [f"SetupError: {self}"]


def setup(notebook: str, requires: str = "0.1", packages: Sequence[str] = ()) -> None:
    """Check this kernel for notebook ``notebook``; print one line if all is well.

    ``requires``: the edlib version the notebook was written for (``"0.1"`` accepts any
    0.1.x). ``packages``: modules the notebook imports (``"networkx"``...).
    Raises :class:`SetupError` naming the problem and the fix.
    """
    problems = environment_problems(requires, packages)
    if not problems:
        problems = _exercise_module_problems(notebook)
    _state["notebook"] = str(notebook)
    if problems:
        _state["problem"] = " ".join(problems)
        raise SetupError(f"SETUP PROBLEM (not your answer): {' '.join(problems)}")
    _state["problem"] = None
    print(f"Setup OK: edlib is ready for notebook {notebook}.")


def setup_problem() -> str | None:
    """The problem :func:`setup` found in this kernel, or None."""
    return _state["problem"]


def current_notebook() -> str | None:
    """The notebook named by the last :func:`setup` call in this kernel."""
    return _state["notebook"]


def environment_problems(requires: str, packages: Sequence[str] = ()) -> list[str]:
    """Sentences describing what is wrong with this kernel (empty when all is well)."""
    import edlib

    problems = []
    if sys.version_info[:2] < MIN_PYTHON:
        problems.append(f"the course needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; this kernel "
                        f"runs Python {sys.version.split()[0]}. Choose a newer kernel.")
    installed = getattr(edlib, "__version__", "0")
    if not compatible(installed, requires):
        where = Path(getattr(edlib, "__file__", "?")).parent
        problems.append(f"this notebook was written for edlib {requires}, but this kernel loads edlib "
                        f"{installed} (from {where}). {FIX}")
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        problems.append(f"this notebook needs {', '.join(missing)}, which this kernel cannot import. {FIX}")
    return problems


def compatible(installed: str, required: str) -> bool:
    """Does version ``installed`` serve a notebook written for ``required``?

    Same major version and not older; while the major version is 0, the minor must
    match too (0.x releases may break notebooks).
    """
    have, need = _numbers(installed), _numbers(required)
    if not have or not need or have[0] != need[0]:
        return False
    if need[0] == 0 and len(need) > 1 and have[1:2] != need[1:2]:
        return False
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def _numbers(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(\.\d+)*", str(version).strip())
    return tuple(int(p) for p in match.group(0).split(".")) if match else ()


def _exercise_module_problems(notebook: str) -> list[str]:
    name = f"{__package__}.checks.nb{notebook}"
    try:
        if importlib.util.find_spec(name) is None:
            return []
        importlib.import_module(name)
    except Exception as exc:
        return [f"the exercises of notebook {notebook} do not load ({type(exc).__name__}: {exc}). {FIX}"]
    return []
