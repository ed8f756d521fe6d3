"""Stop learner code that runs too long, and leave the kernel as it was.

In the main thread (where a Jupyter kernel runs cells) a ``SIGALRM`` timer raises
:class:`TookTooLong` in the running code, even inside ``time.sleep``; the previous
handler and timer are restored afterwards. In any other thread a watchdog injects the
same exception into the thread (CPython's ``PyThreadState_SetAsyncExc``). The
exception repeats every :data:`REPEAT_S` until the limit is lifted, so a bare
``except:`` in a loop cannot swallow it for good.
"""
from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

REPEAT_S = 0.05
"""Seconds between repeated interrupts once the limit has passed."""


class TookTooLong(BaseException):
    """Raised inside code that ran past its time limit.

    A ``BaseException`` so that a learner's ``except Exception`` does not catch it.
    """


@dataclass
class Limit:
    """The state of one time limit: how long, and whether it fired."""

    seconds: float
    fired: bool = False
    active: bool = True


def signals_usable() -> bool:
    """Can this thread use ``SIGALRM`` (main thread of the main interpreter, on a Unix)?"""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[Limit]:
    """Run the body for at most ``seconds`` (None or <= 0: no limit)."""
    if seconds is None or seconds <= 0:
        yield Limit(0.0, active=False)
        return
    limit = Limit(float(seconds))
    if signals_usable():
        with _alarm(limit):
            yield limit
    else:
        with _watchdog(limit):
            yield limit


@contextmanager
def _alarm(limit: Limit) -> Iterator[None]:
    def on_alarm(signum: int, frame: object) -> None:
        if limit.active:
            limit.fired = True
            raise TookTooLong(limit.seconds)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    earlier_delay, earlier_interval = 0.0, 0.0
    try:  # armed inside the try: an alarm that comes at once still restores everything
        earlier_delay, earlier_interval = signal.setitimer(signal.ITIMER_REAL, limit.seconds, REPEAT_S)
        yield
    finally:
        while True:  # an alarm may land while we disarm: disarm again until it sticks
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                limit.active = False
                break
            except TookTooLong:
                limit.fired = True
        signal.signal(signal.SIGALRM, previous)
        if earlier_delay > 0:  # an outer limit was running: give it back what is left of it
            left = max(earlier_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, earlier_interval)


@contextmanager
def _watchdog(limit: Limit) -> Iterator[None]:
    target = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    done = threading.Event()

    def watch() -> None:
        if done.wait(limit.seconds):
            return
        while True:
            with lock:
                if not limit.active:
                    return
                limit.fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(TookTooLong))
            if done.wait(REPEAT_S):
                return

    watcher = threading.Thread(target=watch, name="edlib-time-limit", daemon=True)
    try:  # started inside the try: an interrupt that comes at once still stops the watcher
        watcher.start()
        yield
    finally:
        while True:
            try:
                with lock:
                    limit.active = False
                    done.set()
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(target, None)  # drop one still pending
                break
            except TookTooLong:
                limit.fired = True
        if watcher.ident is not None:
            watcher.join()
