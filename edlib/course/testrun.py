"""Run pytest on a few small test files from a notebook, and report names and outcomes only.

:func:`run_pytest` writes the files into a temporary folder (with an empty ``pytest.ini``,
so no project configuration applies), runs pytest in this process (third-party plugins
off, no cache) and returns a :class:`TestReport`: each test's name, its outcome and, for
a failure, the first line of its message. No timings and no paths, so a notebook prints
the same text every time. It is what ``python -m pytest -q`` on those files would find.

:func:`module_source` turns functions defined in a notebook into the text of a module,
so that a test file can import them like any other code.
"""
from __future__ import annotations

import inspect
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTCOMES = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class TestResult:
    """One test (or a file that could not be collected): name, outcome, first line of its message."""

    __test__ = False          # not a test class itself

    name: str
    outcome: str
    message: str = ""


@dataclass(frozen=True)
class TestReport:
    """The results of one pytest run, in the order pytest ran them."""

    __test__ = False

    results: tuple[TestResult, ...]
    exit_code: int

    def count(self, outcome: str) -> int:
        """How many results have ``outcome`` (``"passed"``, ``"failed"``, ``"error"``, ``"skipped"``)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome is one of {OUTCOMES}, got {outcome!r}")
        return sum(r.outcome == outcome for r in self.results)

    @property
    def ok(self) -> bool:
        """True when at least one test ran and none failed or errored."""
        return self.exit_code == 0

    def summary(self) -> str:
        """``"3 passed, 1 failed"``, as pytest's last line says it (without the time)."""
        parts = [f"{self.count(o)} {o}" for o in OUTCOMES if self.count(o)]
        return ", ".join(parts) or "no tests ran"

    def table(self, width: int = 110) -> str:
        """One line per test, then the summary."""
        name_w = max([len(r.name) for r in self.results] + [4])
        lines = [f"{'test':<{name_w}}  outcome"]
        for r in self.results:
            lines.append(f"{r.name:<{name_w}}  {r.outcome.upper()}")
            if r.message:
                lines += textwrap.wrap(r.message, width, initial_indent="    ", subsequent_indent="    ")
        lines.append(self.summary())
        return "\n".join(lines)

    def show(self) -> None:
        """Print :meth:`table`."""
        print(self.table())


class _Collector:
    """A pytest plugin that keeps each test's outcome and first message line (without the folder's path)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.results: list[TestResult] = []

    def message(self, report: Any) -> str:
        return _first_line(report).replace(self.folder + os.sep, "").replace(self.folder, ".")

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.results.append(TestResult(report.nodeid or "(collection)", "error", self.message(report)))

    def pytest_runtest_logreport(self, report: Any) -> None:
        name = report.nodeid
        if report.when == "call":
            outcome = "skipped" if report.skipped else report.outcome
            self.results.append(TestResult(name, outcome, self.message(report) if report.failed else ""))
        elif report.failed:                                   # setup or teardown went wrong
            self.results.append(TestResult(name, "error", self.message(report)))
        elif report.skipped and report.when == "setup":
            self.results.append(TestResult(name, "skipped"))


def _first_line(report: Any) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message.strip()
        line = text.splitlines()[0] if text else ""
    else:                                   # a collection error: its last "E   ..." line says what
        errors = [ln[1:].strip() for ln in str(report.longrepr).splitlines() if ln.startswith("E ")]
        line = errors[-1] if errors else "could not be collected"
    head, sep, rest = line.partition(": ")
    if sep and "." in head and " " not in head:               # "edlib.patterns.contracts.ContractBroken: ..."
        line = f"{head.rsplit('.', 1)[1]}: {rest}"
    return line


def run_pytest(files: Mapping[str, str], args: Sequence[str] = ()) -> TestReport:
    """Write ``files`` (name -> text) into a temporary folder and run pytest on it.

    Test files are those named ``test_*.py``; other files (the code under test) can be
    imported by them. ``args`` are extra pytest options (``["-k", "stock"]``).
    """
    import pytest

    if not files or not all(isinstance(n, str) and isinstance(t, str) for n, t in files.items()):
        raise TypeError("files maps file names to their text, such as {'test_x.py': '...'}")
    bad = [n for n in files if Path(n).name != n or not n.endswith((".py", ".json"))]
    if bad:
        raise ValueError(f"file names must be plain names ending in .py or .json: {bad}")
    path = list(sys.path)
    autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    with tempfile.TemporaryDirectory(prefix="edlib-tests-") as folder:
        collector = _Collector(folder)
        for name, text in files.items():
            Path(folder, name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        Path(folder, "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        try:
            code = pytest.main([folder, "-c", str(Path(folder, "pytest.ini")), "--rootdir", folder,
                                "-p", "no:cacheprovider", "-p", "no:terminal", "--capture=sys",
                                "-o", "addopts=", *args], plugins=[collector])
        finally:
            if autoload is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = autoload
            for name, module in list(sys.modules.items()):   # the next run imports its own files afresh
                if str(getattr(module, "__file__", None) or "").startswith(folder):
                    del sys.modules[name]
            sys.path[:] = path
    return TestReport(tuple(collector.results), int(code))


def module_source(*functions: Callable[..., Any], header: str = "") -> str:
    """The text of a module holding ``functions`` (their source, as written), after ``header``.

    ``header`` holds the imports they need (``"from edlib import NotFound"``).
    """
    if not functions:
        raise ValueError("give at least one function")
    parts = [textwrap.dedent(header).strip()] if header.strip() else []
    for fn in functions:
        if not callable(fn):
            raise TypeError(f"{fn!r} is not a function")
        parts.append(textwrap.dedent(inspect.getsource(fn)).strip())
    return "\n\n\n".join(parts) + "\n"
