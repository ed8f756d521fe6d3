"""A throwaway local Redis: started on a free loopback port, without persistence, stopped at the end.

Tests, the benchmark and notebook 16 each start their own::

    with RedisServer() as server:          # redis-server --bind 127.0.0.1 --port FREE --save '' ...
        bus = RedisBus(server.url)

It listens on 127.0.0.1 only, writes nothing to disk, and is stopped when the ``with``
block ends, when :meth:`RedisServer.stop` is called, when the object is collected, at
interpreter exit, and (on Linux) when the process that started it dies.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

MISSING = ("redis-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`; "
           "macOS: `brew install redis`), or point the environment variable EDLIB_REDIS_URL at a Redis "
           "you run (redis://HOST:PORT/0).")
"""What to tell a user who has no redis-server."""

URL_VARIABLE = "EDLIB_REDIS_URL"
"""Environment variable naming an existing Redis to use instead of starting one."""


def find_redis_server() -> str | None:
    """The path of the ``redis-server`` program, or None if it is not installed."""
    found = shutil.which("redis-server")
    if found:
        return found
    for folder in ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"):
        candidate = Path(folder) / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:  # loaded now: a preexec_fn must not import anything (another thread may hold the import lock)
    import ctypes

    _PRCTL: Any = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (ImportError, OSError, AttributeError):  # pragma: no cover (not Linux)
    _PRCTL = None


def die_with_parent() -> None:
    """In a child process (``preexec_fn``): be killed when the parent dies (Linux; elsewhere nothing)."""
    if _PRCTL is not None:
        _PRCTL(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


class RedisServer:
    """One ``redis-server`` process of our own on ``127.0.0.1:port`` (a free port by default)."""

    def __init__(self, program: str | None = None, port: int | None = None, start: bool = True) -> None:
        found = program or find_redis_server()
        if found is None:
            raise FileNotFoundError(MISSING)
        self.program: str = found
        self.port = port or 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        if start:
            self.start()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Is the server process alive?"""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 10.0) -> "RedisServer":
        """Start the server and wait until it answers PING (a few tries if a port is taken)."""
        if self.running:
            return self
        fixed = bool(self.port)
        last = ""
        for _ in range(1 if fixed else 5):
            port = self.port if fixed else free_port()
            self._dir = tempfile.TemporaryDirectory(prefix="edlib-redis-")
            log = Path(self._dir.name) / "redis.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [self.program, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                     "--dir", self._dir.name, "--protected-mode", "yes", "--loglevel", "warning"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent if os.name == "posix" else None)
            self._finalizer = weakref.finalize(self, _stop, proc, self._dir)
            if _answers(port, proc, timeout_s):
                self._proc, self.port = proc, port
                return self
            last = log.read_text("utf-8", "replace").strip() if proc.poll() is not None else "no answer in time"
            self._finalizer()
        raise RuntimeError(f"redis-server did not start: {last.splitlines()[-1] if last else 'unknown reason'}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its folder."""
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RedisServer(127.0.0.1:{self.port}, {'running' if self.running else 'stopped'})"


def _answers(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait until the server on ``port`` answers PING with PONG (False if it exited or took too long)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def _stop(proc: subprocess.Popen[bytes], folder: tempfile.TemporaryDirectory[str] | None) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if folder is not None:
        folder.cleanup()


class LocalBroker:
    """The Redis a notebook uses: ``EDLIB_REDIS_URL`` if set, else a redis-server of its own, else none.

    ``running`` says whether there is one; ``url`` is where; ``why`` says what is missing
    when there is none. :meth:`stop` stops the server if this object started it.
    """

    def __init__(self) -> None:
        self.server: RedisServer | None = None
        self.url: str | None = None
        self.why = ""
        self.prefix = "edlib"
        given = os.environ.get(URL_VARIABLE)
        if given:
            self.prefix = f"edlib-{os.getpid()}-{int(time.time())}"    # never mix with what is there already
            from edlib.messaging.redis_streams import BrokerUnavailable, RedisBus

            try:
                RedisBus(given, consumer="probe").close()
                self.url, self.source = given, f"the Redis named by {URL_VARIABLE}"
            except (BrokerUnavailable, ValueError) as exc:
                self.why, self.source = str(exc), ""
        elif find_redis_server() is None:
            self.why, self.source = MISSING, ""
        else:
            self.server = RedisServer()
            self.url, self.source = self.server.url, "a redis-server of our own: 127.0.0.1, a free port, no persistence"

    @property
    def running(self) -> bool:
        """Is there a broker to use?"""
        return self.url is not None and (self.server is None or self.server.running)

    def stop(self) -> None:
        """Stop the server if we started it; on a Redis of someone else's, delete the keys we made."""
        if self.server is not None:
            self.server.stop()
        elif self.url is not None:
            import redis

            client = redis.Redis.from_url(self.url)
            keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()

    def __repr__(self) -> str:
        if self.running:
            return f"broker: {self.source}"
        return f"no broker: {self.why} Every cell below that needs one does nothing."


def local_broker() -> LocalBroker:
    """A broker for a notebook (see :class:`LocalBroker`)."""
    return LocalBroker()
