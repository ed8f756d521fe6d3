"""Execute course notebooks exactly as the tests do: ``python -m edlib.course.execute NOTEBOOK ...``.

``make notebooks`` calls this to regenerate stored outputs; ``notebooks/conftest.py``
applies :func:`prepare_environment` before strict nbval starts its kernels. Both use the
same settings, so a regenerated notebook passes strict nbval.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2]) + os.sep
_LIBRARY = re.compile(r"/[^\s:'\"\x1b]*?/(?:site|dist)-packages/")

KERNEL_ENV = {
    "PYTHONHASHSEED": "0",                                   # stable set and dict-of-set order
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
"""Environment variables every notebook kernel runs with (tests and regeneration alike)."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CELL_TIMEOUT_S = 120
"""Longest a single cell may run before it is stopped."""


def prepare_environment() -> None:
    """Set :data:`KERNEL_ENV`, give exercise progress a fresh scratch file, warm matplotlib.

    Kernels inherit the environment of the process that starts them. Warming matplotlib
    here builds its font cache once, so no kernel prints "building the font cache".
    """
    os.environ.update(KERNEL_ENV)
    scratch = Path(tempfile.mkdtemp(prefix="edlib-progress-"))
    os.environ["EDLIB_PROGRESS"] = str(scratch / "progress.json")
    if _font_cache_built():
        return                          # importing matplotlib here would only cost each test process a second
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.font_manager  # noqa: F401  (builds the font cache)


def _font_cache_built() -> bool:
    """Is matplotlib's font cache there already (where matplotlib looks for it)?"""
    folder = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "matplotlib")
    return any(Path(folder).glob("fontlist-v*.json"))


def execute(path: Path) -> None:
    """Run one notebook top to bottom in a fresh kernel, in its own folder; save it in place."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=False, record_timing=False)
    client.execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)     # wall-clock times: they differ every run
        if "outputs" in cell:
            cell["outputs"] = coalesce_streams(cell["outputs"])
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [relative_paths(line) for line in output["traceback"]]
            # A widget's view points at a model that only lives in a running kernel (with a random
            # id): the saved notebook keeps the widget's still (PNG) and text instead.
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nbformat.write(nb, path)


def coalesce_streams(outputs: list) -> list:
    """Join consecutive prints to one stream into one output.

    How a kernel splits its stdout into messages depends on timing; joined, the stored
    text is the same on every run.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def relative_paths(text: str) -> str:
    """Drop this machine's folders from a traceback line: ``/x/y/edlib/a.py`` -> ``edlib/a.py``.

    Stored notebooks show the same text on every machine and leak no local paths.
    """
    return _LIBRARY.sub("", text).replace(_REPO, "")


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m edlib.course.execute NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    prepare_environment()
    for name in argv:
        path = Path(name)
        print(f"executing {path} ...", flush=True)
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
