"""Forced interleavings: run "threads" step by step, in an order you choose.

Real threads switch wherever the operating system likes, so a race shows up once in a
thousand runs and never when you look. Here a *task* is a generator function, and every
``yield`` in it marks a point where another thread may take over; the text it yields
says what the step just did. A plain callable is a task of one step (its return value
is its text). :func:`run` executes tasks in a given order (a *schedule*: ``"ABAB"``
means one step of A, one of B, and so on), and :func:`explore` tries every possible
schedule, so a race can be counted instead of hoped for::

    def increment(store):
        value = store["count"]
        yield f"read {value}"          # another thread may run here
        store["count"] = value + 1
        return f"wrote {value + 1}"

    store = {"count": 0}
    run({"A": increment(store), "B": increment(store)}, "ABAB").show()

:class:`Lock` is a cooperative lock for such tasks (``yield from lock.acquire()`` ...
``lock.release()``): a task that finds it held waits, and the schedule moves on. Everything
runs in the calling thread, deterministically: the same schedule always gives the same run.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_RUNS = 20_000
"""The most schedules :func:`explore` tries before it gives up (small tasks only)."""

_running: list[str] = []   # the name of the task being stepped (for Lock owners)


class Lock:
    """A cooperative lock for tasks: ``yield from lock.acquire()``, then ``lock.release()``.

    While another task holds it, a task that wants it waits (its step is spent waiting,
    and :func:`explore` does not schedule it again until the lock is free).
    """

    def __init__(self, name: str = "lock") -> None:
        self.name = name
        self.owner: str | None = None
        self.acquisitions = 0

    @property
    def locked(self) -> bool:
        """Is some task holding the lock?"""
        return self.owner is not None

    def acquire(self) -> Iterator["_Waiting"]:
        """Take the lock, waiting (yielding) while another task holds it. Use ``yield from``."""
        while self.owner is not None:
            yield _Waiting(self)
        self.owner = _running[-1] if _running else "?"
        self.acquisitions += 1

    def release(self) -> None:
        """Give the lock back."""
        if self.owner is None:
            raise RuntimeError(f"release of {self.name!r}, which nobody holds")
        self.owner = None

    def __repr__(self) -> str:
        return f"Lock({self.name!r}, held by {self.owner})" if self.owner else f"Lock({self.name!r}, free)"


@dataclass(frozen=True)
class _Waiting:
    lock: Lock


@dataclass(frozen=True)
class Step:
    """One step of a run: which task, and what it did."""

    task: str
    text: str


@dataclass
class Run:
    """What happened under one schedule.

    ``schedule``: the steps taken, one letter each (including the steps :func:`run` added
    to finish the tasks); ``steps``: each step's task and text; ``result``: what
    ``observe()`` returned at the end; ``error``: the first exception a task raised
    (``"RuntimeError: ..."``) or None; ``stuck``: tasks left waiting forever for a lock
    (``deadlock`` is True when there are any).
    """

    schedule: str
    steps: list[Step] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    stuck: tuple[str, ...] = ()

    @property
    def deadlock(self) -> bool:
        """Did some task wait forever for a lock?"""
        return bool(self.stuck)

    def table(self) -> str:
        """The steps as a small text table."""
        lines = [f"{'step':>4}  {'task':<6}did"]
        lines += [f"{i:>4}  {s.task:<6}{s.text}" for i, s in enumerate(self.steps, 1)]
        if self.stuck:
            who = " and ".join(self.stuck)
            lines.append(f"      ({who} wait{'s' if len(self.stuck) == 1 else ''} forever for a lock "
                         "that nobody will release)")
        return "\n".join(lines)

    def show(self) -> None:
        """Print :meth:`table`."""
        print(self.table())


class _Runner:
    """Tasks in progress: steps them one at a time."""

    def __init__(self, tasks: Mapping[str, Any]) -> None:
        if not isinstance(tasks, Mapping) or not tasks:
            raise TypeError("tasks must be a dict such as {'A': task_a, 'B': task_b}")
        self.tasks: dict[str, Any] = {}
        for name, task in tasks.items():
            if not isinstance(name, str) or len(name) != 1 or not name.isalpha():
                raise ValueError(f"task names are single letters (they spell the schedule), got {name!r}")
            if not (inspect.isgenerator(task) or callable(task)):
                raise TypeError(f"task {name} is {type(task).__name__}: a task is a generator (call a function "
                                "that contains `yield`) or a callable taking no arguments")
            self.tasks[name] = task
        self.done: set[str] = set()
        self.waiting: dict[str, Lock] = {}
        self.run = Run("")

    def runnable(self) -> list[str]:
        """Tasks that can take a step now, in name order."""
        return [n for n in sorted(self.tasks) if n not in self.done
                and not (n in self.waiting and self.waiting[n].locked)]

    def step(self, name: str) -> None:
        run = self.run
        if name not in self.tasks:
            raise ValueError(f"the schedule names {name!r}, but the tasks are {', '.join(sorted(self.tasks))}")
        if name in self.done:
            taken = run.schedule.count(name)
            raise ValueError(f"the schedule asks {name} for step {taken + 1}, but {name} finished after "
                             f"{taken} step{'s' if taken != 1 else ''}")
        run.schedule += name
        lock = self.waiting.get(name)
        if lock is not None and lock.locked:
            run.steps.append(Step(name, f"waits for {lock.name} (held by {lock.owner})"))
            return
        self.waiting.pop(name, None)
        task = self.tasks[name]
        _running.append(name)
        try:
            if inspect.isgenerator(task):
                out = next(task)
                if isinstance(out, _Waiting):
                    self.waiting[name] = out.lock
                    text = f"waits for {out.lock.name} (held by {out.lock.owner})"
                else:
                    text = "" if out is None else str(out)
            else:
                out = task()
                self.done.add(name)
                text = "finished" if out is None else str(out)
        except StopIteration as stop:
            self.done.add(name)
            text = "finished" if stop.value is None else str(stop.value)
        except Exception as exc:
            self.done.add(name)
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            run.error = run.error or message
            text = f"raised {message}"
        finally:
            _running.pop()
        run.steps.append(Step(name, text))

    def finish(self) -> None:
        """Step the remaining tasks (first runnable in name order) until all are done or stuck."""
        while len(self.done) < len(self.tasks):
            ready = self.runnable()
            if not ready:
                self.mark_stuck()
                return
            self.step(ready[0])

    def mark_stuck(self) -> None:
        self.run.stuck = tuple(n for n in sorted(self.tasks) if n not in self.done)


def run(tasks: Mapping[str, Any], schedule: str = "", observe: Callable[[], Any] | None = None) -> Run:
    """Run ``tasks`` (name -> generator or callable) in the order ``schedule`` spells.

    Each letter is one step of that task. A step of a task waiting for a lock is spent
    waiting. After the schedule, unfinished tasks are stepped in name order until they
    finish (or wait for each other forever: ``deadlock``). ``observe()``, if given, is
    called at the end; its value is the run's ``result``.
    """
    if not isinstance(schedule, str):
        raise TypeError(f"a schedule is a string of task names such as 'ABAB', got {type(schedule).__name__}")
    runner = _Runner(tasks)
    for name in schedule:
        runner.step(name)
    runner.finish()
    if observe is not None:
        runner.run.result = observe()
    return runner.run


def explore(make: Callable[[], tuple[Mapping[str, Any], Callable[[], Any]]]) -> list[Run]:
    """Run every possible schedule of the tasks ``make()`` returns; one :class:`Run` each.

    ``make()`` must build everything afresh (shared state, locks and tasks) and return
    ``(tasks, observe)``: it is called once per schedule. Schedules are tried in
    alphabetical order; a step is possible for a task that has not finished and does not
    wait for a held lock.
    """
    runs: list[Run] = []

    def replay(prefix: str) -> tuple[_Runner, Callable[[], Any]]:
        tasks, observe = make()
        runner = _Runner(tasks)
        for name in prefix:
            runner.step(name)
        return runner, observe

    def visit(prefix: str) -> None:
        runner, observe = replay(prefix)
        ready = runner.runnable()
        if not ready:
            runner.mark_stuck()
            runner.run.result = observe()
            runs.append(runner.run)
            if len(runs) > MAX_RUNS:
                raise RuntimeError(f"more than {MAX_RUNS} schedules: make the tasks smaller")
            return
        for name in ready:
            visit(prefix + name)

    visit("")
    return runs
