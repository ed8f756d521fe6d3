"""Validate every notebook's exercises three ways, in real kernels.

For each notebook: (1) run it as shipped: every check must say NOT ATTEMPTED and no
cell may fail; (2) run it with each exercise cell replaced by its exercise's reference
solution: every check must say CORRECT; (3) run it with each exercise's k-th typical
wrong answer (all exercises at once, one run per k): each check must give that wrong
answer's outcome and message; an exercise without a k-th wrong answer gets its
solution and must say CORRECT. Runs of wrong answers stop after the last check cell.

Solutions and wrong answers are read from the kernel itself after the shipped run
(:mod:`.layout`). The runs of one notebook share one kernel, with fresh course code for
each run (:mod:`.kernels`); notebooks run in parallel. Command line::

    python -m edlib.exercises.validate notebooks/           # one summary line per notebook
    python -m edlib.exercises.validate --fresh notebooks/   # a new kernel for every run
    python -m edlib.exercises.validate --refresh FILE.ipynb  # store a fresh run's outputs
"""
from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edlib.exercises.kernels import KernelSession
from edlib.exercises.layout import (
    ExerciseCell,
    NotebookLayoutError,
    exercise_cells,
    notebooks_in,
    read_notebook,
    report_from,
    variant,
)
from edlib.exercises.outcome import Outcome

MISTAKES = frozenset(Outcome) - {Outcome.CORRECT}


@dataclass(frozen=True)
class Expectation:
    """What one check must say in one run: an outcome, and text its message contains."""

    outcome: Outcome
    message: str = ""


@dataclass
class Run:
    """One execution of a notebook variant and what its checks said."""

    label: str
    expected: dict[str, Expectation]
    report: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    notebook: Any = None

    def problems(self) -> dict[str, str]:
        """For each check that did not say what it must: what happened instead."""
        if self.error:
            return {name: self.error for name in self.expected}
        out = {}
        for name, want in sorted(self.expected.items()):
            info = self.report.get(name) or {}
            result = info.get("result")
            if info.get("error"):
                out[name] = info["error"]
            elif result is None:
                out[name] = f"{name}.check() never ran"
            elif result["outcome"] != want.outcome.value or want.message not in result["message"]:
                out[name] = (f"{name}.check() said {result['outcome']}: {result['message']!r}; expected "
                             f"{want.outcome.value}" + (f" containing {want.message!r}" if want.message else ""))
        return out

    def mismatches(self) -> list[str]:
        """Each problem as one line (a failed run is one line)."""
        if self.error:
            return [f"{self.label}: {self.error}"]
        return [f"{self.label}: {p}" for p in self.problems().values()]

    def passed(self, outcomes: Iterable[Outcome] = frozenset(Outcome)) -> int:
        """How many checks expecting one of ``outcomes`` said what they must."""
        bad, wanted = self.problems(), set(outcomes)
        return sum(1 for n, e in self.expected.items() if n not in bad and e.outcome in wanted)


@dataclass
class NotebookReport:
    """The runs of one notebook, and what went wrong."""

    path: Path
    cells: list[ExerciseCell]
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    kernels: int = 0

    @property
    def failures(self) -> list[str]:
        """Every problem found: layout, missing wrong answers, wrong verdicts, failed runs."""
        return self.problems + [m for r in self.runs for m in r.mismatches()]

    @property
    def ok(self) -> bool:
        """True when nothing went wrong."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        """Checks expected and passed per kind of run."""
        shipped = [r for r in self.runs if r.label == "shipped"]
        solved = [r for r in self.runs if r.label == "solved"]
        wrong = [r for r in self.runs if r.label.startswith("wrong")]
        return {
            "exercises": len(self.cells), "runs": len(self.runs),
            "shipped": sum(len(r.expected) for r in shipped), "shipped_ok": sum(r.passed() for r in shipped),
            "solved": sum(len(r.expected) for r in solved), "solved_ok": sum(r.passed() for r in solved),
            "wrong": sum(1 for r in wrong for e in r.expected.values() if e.outcome in MISTAKES),
            "wrong_ok": sum(r.passed(MISTAKES) for r in wrong),
        }

    def summary(self) -> str:
        """One line: the counts, and OK or FAILED."""
        c = self.counts()
        verdict = "OK" if self.ok else f"FAILED ({len(self.failures)} problems)"
        runs = f"{c['runs']} run{'s' if c['runs'] != 1 else ''}"
        return (f"{self.path.name}: {c['exercises']} exercises; shipped {c['shipped_ok']}/{c['shipped']} "
                f"not attempted; solved {c['solved_ok']}/{c['solved']} correct; wrong answers "
                f"{c['wrong_ok']}/{c['wrong']} caught; {runs} in {self.kernels} kernel"
                f"{'s' if self.kernels != 1 else ''}, {self.seconds:.1f} s: {verdict}")


def plan(cells: Sequence[ExerciseCell], known: dict[str, dict[str, Any]]) -> list[tuple[str, dict, dict]]:
    """The runs after the shipped one: (label, replacement code by name, expectations by name)."""
    solutions = {n: i["solution"] for n, i in known.items()}
    runs = [("solved", solutions, {n: Expectation(Outcome.CORRECT) for n in known})]
    for k in range(max((len(i["wrong"]) for i in known.values()), default=0)):
        code, expected = dict(solutions), {}
        for n, info in known.items():
            if k < len(info["wrong"]):
                w = info["wrong"][k]
                code[n] = w["code"]
                expected[n] = Expectation(Outcome(w["outcome"]), w["message"])
            else:
                expected[n] = Expectation(Outcome.CORRECT)
        runs.append((f"wrong {k + 1}", code, expected))
    return runs


async def _run(session: KernelSession, label: str, nb: Any, expected: dict[str, Expectation]) -> Run:
    run = Run(label, expected)
    started = time.monotonic()
    try:
        run.notebook = await session.run(nb)
        run.report = report_from(run.notebook)
    except Exception as exc:
        run.error = _describe_failure(nb, exc)
    run.seconds = time.monotonic() - started
    return run


def _describe_failure(nb: Any, exc: Exception) -> str:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i} raised {out.get('ename')}: {out.get('evalue')}"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"


async def validate_notebook_async(path: Path, scratch: Path, slots: asyncio.Semaphore,
                                  reuse_kernel: bool = True) -> NotebookReport:
    """Run one notebook as shipped, solved and wrong (in one kernel unless ``reuse_kernel`` is
    False); report what each check said."""
    nb = read_notebook(path)
    try:
        cells = exercise_cells(nb)
    except NotebookLayoutError as exc:
        return NotebookReport(path, [], problems=[str(exc)])
    report = NotebookReport(path, cells)
    async with slots:
        started = time.monotonic()
        async with KernelSession(path.parent, scratch, reuse=reuse_kernel) as session:
            shipped = await _run(session, "shipped", variant(nb, cells, {}), {
                c.name: Expectation(Outcome.NOT_ATTEMPTED) for c in cells})
            report.runs.append(shipped)
            known = {n: i for n, i in shipped.report.items() if "error" not in i}
            report.problems += [f"{n}: {i['error']}" for n, i in shipped.report.items() if "error" in i]
            report.problems += [f"{n} ({i['key']}) has no typical wrong answer" for n, i in known.items()
                                if not i["wrong"]]
            if cells and not shipped.error:
                for label, code, expected in plan(cells, known):
                    nb_variant = variant(nb, cells, code, through_last_check=label != "solved")
                    report.runs.append(await _run(session, label, nb_variant, expected))
            report.kernels = session.kernels
        report.seconds = time.monotonic() - started
    return report


def validate(paths: Iterable[Path | str], jobs: int | None = None,
             reuse_kernels: bool = True) -> list[NotebookReport]:
    """Validate notebooks, at most ``jobs`` (default: CPU count) at once; one report each.

    ``reuse_kernels=False`` starts a fresh kernel for every run (slower, fully isolated).
    """
    async def main() -> list[NotebookReport]:
        slots = asyncio.Semaphore(jobs or max(2, os.cpu_count() or 2))
        with tempfile.TemporaryDirectory(prefix="edlib-validate-") as scratch:
            return list(await asyncio.gather(*(validate_notebook_async(Path(p), Path(scratch), slots,
                                                                       reuse_kernels) for p in paths)))

    return asyncio.run(main())


def validate_directory(directory: Path | str, jobs: int | None = None) -> list[NotebookReport]:
    """Validate every notebook of ``directory``."""
    return validate(notebooks_in(directory), jobs)


def refresh(path: Path | str) -> None:
    """Run the notebook at ``path`` as shipped, in a fresh kernel with the harness's settings,
    and store its outputs in place."""
    import nbformat

    path = Path(path)
    nb = read_notebook(path)

    async def main() -> None:
        with tempfile.TemporaryDirectory(prefix="edlib-refresh-") as scratch:
            async with KernelSession(path.parent, Path(scratch)) as session:
                await session.run(nb)

    asyncio.run(main())
    nbformat.write(nb, str(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: validate notebooks (files or folders); exit 1 on any failure."""
    args = list(sys.argv[1:] if argv is None else argv)
    fresh = "--fresh" in args
    args = [a for a in args if a != "--fresh"] or ["notebooks"]
    if args[0] == "--refresh":
        for name in args[1:]:
            refresh(name)
            print(f"refreshed {name}")
        return 0
    paths: list[Path] = []
    for a in args:
        paths += notebooks_in(a) if Path(a).is_dir() else [Path(a)]
    reports = validate(paths, reuse_kernels=not fresh)
    for r in reports:
        print(r.summary())
        for failure in r.failures:
            print(f"  - {failure}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
