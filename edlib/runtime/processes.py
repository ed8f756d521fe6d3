"""Child processes that are always stopped: by ``with``, by :meth:`Processes.close`, at exit, or on collection.

A notebook that starts processes must not leave them running when a cell fails or the
kernel is restarted. :class:`Processes` keeps every child it started and stops them all
(SIGTERM, then SIGKILL) when it is closed, when it is garbage-collected and when the
interpreter exits (``weakref.finalize``); on Linux each child is also killed by the
kernel if its parent dies (``PR_SET_PDEATHSIG``), and edlib's own processes watch their
parent too.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from edlib.messaging.redis_server import die_with_parent

_ROOT = str(Path(__file__).resolve().parents[2])


class ProcessFailed(RuntimeError):
    """A child exited or did not say it was ready in time: the message holds the end of its log."""


class Child:
    """One started process: its name, its ``ready ...`` line, and what it printed."""

    def __init__(self, name: str, popen: subprocess.Popen[str], log_path: Path) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"stdout-{name}", daemon=True)
        self._reader.start()

    @property
    def running(self) -> bool:
        """Is it alive?"""
        return self.popen.poll() is None

    @property
    def ready_line(self) -> str:
        """The first line it printed that starts with ``ready`` ("" if none yet)."""
        return next((line for line in self.lines if line.startswith("ready")), "")

    def wait_ready(self, timeout_s: float) -> str:
        """Wait for the ``ready`` line; raise :class:`ProcessFailed` if it exits or takes too long."""
        deadline = time.monotonic() + timeout_s
        while not self._ready.wait(0.02):
            if not self.running or time.monotonic() > deadline:
                why = "exited" if not self.running else f"was not ready after {timeout_s:g} s"
                raise ProcessFailed(f"{self.name} {why}: {self.log_tail() or '(no output)'}")
        return self.ready_line

    def log_tail(self, lines: int = 3) -> str:
        """The last lines it wrote to stderr."""
        try:
            text = self.log_path.read_text("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ready"):
                self._ready.set()


class Processes:
    """The processes this program started, stopped together at the end (see the module docstring).

    ``folder``: where each child's stderr goes (``NAME.log``).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._children: dict[str, Child] = {}
        self._finalizer = weakref.finalize(self, _stop_all, self._children)

    def start(self, name: str, argv: Sequence[str], ready_timeout_s: float = 30.0, wait: bool = True) -> Child:
        """Start ``python argv...`` as ``name`` and (if ``wait``) wait for its ``ready`` line."""
        if name in self._children and self._children[name].running:
            raise ValueError(f"{name!r} is running already")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])),
                   PYTHONUNBUFFERED="1")
        log_path = self.folder / f"{name}.log"
        with open(log_path, "ab") as log:
            popen = subprocess.Popen([sys.executable, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=log, text=True, env=env, cwd=self.folder,
                                     preexec_fn=die_with_parent if os.name == "posix" else None)
        child = self._children[name] = Child(name, popen, log_path)
        if wait:
            self.wait_ready([name], ready_timeout_s)
        return child

    def wait_ready(self, names: Sequence[str], timeout_s: float = 30.0) -> None:
        """Wait until each of ``names`` said it is ready; stop the ones that failed and raise ProcessFailed."""
        deadline = time.monotonic() + timeout_s
        for name in names:
            child = self._children[name]
            try:
                child.wait_ready(max(0.0, deadline - time.monotonic()))
            except ProcessFailed:
                _stop(child)
                raise

    def __getitem__(self, name: str) -> Child:
        return self._children[name]

    def running(self) -> list[str]:
        """Names of the children alive now, sorted."""
        return sorted(n for n, c in self._children.items() if c.running)

    def kill(self, name: str) -> None:
        """SIGKILL ``name`` (no goodbye: what it held stays pending at the broker) and reap it."""
        child = self._children[name]
        if child.running:
            child.popen.send_signal(signal.SIGKILL)
        child.popen.wait()

    def stop(self, *names: str, timeout_s: float = 10.0) -> list[int]:
        """SIGTERM ``names`` (each finishes what it holds), SIGKILL after ``timeout_s``; their exit codes."""
        return _stop_many([self._children[name] for name in names], timeout_s)

    def close(self) -> None:
        """Stop every child (idempotent)."""
        self._finalizer()

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stop(child: Child, timeout_s: float = 10.0, terminate: bool = True) -> int:
    if terminate and child.running:
        child.popen.terminate()
    try:
        child.popen.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:       # stuck: note where (edlib's processes dump their threads), then kill
        child.popen.send_signal(signal.SIGUSR1)
        time.sleep(0.2)
        child.popen.kill()
    code = child.popen.wait()
    if child.popen.stdout is not None:
        child._reader.join(timeout=1)
        child.popen.stdout.close()
    return code


def _stop_many(children: list[Child], timeout_s: float = 10.0) -> list[int]:
    for child in children:
        if child.running:
            child.popen.terminate()       # all at once: they wind down side by side
    return [_stop(child, timeout_s, terminate=False) for child in children]


def _stop_all(children: dict[str, Child]) -> None:
    _stop_many(list(children.values()))
