"""Each service's own SQLite database, and the rule that no other service may open it.

A :class:`Database` is a real SQLite connection (in memory by default, or a file). It
offers plain SQL (:meth:`Database.execute`, :meth:`Database.query`) and a few document
helpers (:meth:`put`, :meth:`get`, :meth:`all`, :meth:`count`) that store JSON rows.
:class:`Databases` hands each database only to its owner: anybody else gets a
``PermissionError``.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from edlib.core.payloads import validate_payload

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _table(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"table name {name!r} is not allowed: use letters, digits and '_'")
    return name


class Database:
    """A service's SQLite database. Changes made inside :meth:`transaction` commit together.

    Safe to share between threads: one lock serialises statements, and a transaction
    holds it from BEGIN to COMMIT, so no other thread's statement lands inside it.
    """

    def __init__(self, owner: str, path: str = ":memory:",
                 on_write: Callable[[str, int], None] | None = None) -> None:
        self.owner = owner
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._depth = 0
        self._on_write = on_write
        self._lock = threading.RLock()

    # -- transactions --------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """Everything inside commits together, or (on an exception) not at all."""
        with self._lock:
            yield from self._transaction()

    def _transaction(self) -> Iterator["Database"]:
        outer = self._depth == 0
        if outer:
            self._conn.execute("BEGIN")
        else:
            self._conn.execute(f"SAVEPOINT sp{self._depth}")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if outer:
                self._conn.execute("ROLLBACK")
            else:
                self._conn.execute(f"ROLLBACK TO sp{self._depth}")
                self._conn.execute(f"RELEASE sp{self._depth}")
            raise
        else:
            self._depth -= 1
            self._conn.execute("COMMIT" if outer else f"RELEASE sp{self._depth}")

    # -- plain SQL -----------------------------------------------------------------
    def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        with self._lock:
            cur = self._conn.execute(sql, params)
        if cur.rowcount > 0 and self._on_write is not None:
            self._on_write(sql.split(None, 1)[0].upper(), cur.rowcount)
        return max(cur.rowcount, 0)

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        """Run a SELECT; return rows as dicts."""
        with self._lock:
            cur = self._conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    # -- document helpers ----------------------------------------------------------
    def _ensure(self, table: str) -> str:
        t = _table(table)
        self._conn.execute(f'CREATE TABLE IF NOT EXISTS "{t}" (id TEXT PRIMARY KEY, doc TEXT NOT NULL)')
        return t

    def put(self, table: str, id: str, doc: dict) -> None:
        """Store ``doc`` (a JSON object) under ``id``, replacing any earlier one."""
        if not isinstance(id, str) or not id:
            raise ValueError(f"id must be a non-empty string, got {id!r}")
        body = json.dumps(validate_payload(doc, f"{table} row", allow_empty=True), sort_keys=True)
        with self._lock:
            t = self._ensure(table)
            if not self.execute(f'UPDATE "{t}" SET doc = ? WHERE id = ?', (body, id)):
                self.execute(f'INSERT INTO "{t}" (id, doc) VALUES (?, ?)', (id, body))

    def get(self, table: str, id: str) -> dict | None:
        """The document stored under ``id``, or None."""
        with self._lock:
            t = self._ensure(table)
            row = self._conn.execute(f'SELECT doc FROM "{t}" WHERE id = ?', (id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def all(self, table: str) -> list[dict]:
        """Every document in ``table`` in id insertion order."""
        with self._lock:
            t = self._ensure(table)
            docs = self._conn.execute(f'SELECT doc FROM "{t}" ORDER BY rowid').fetchall()
        return [json.loads(doc) for (doc,) in docs]

    def count(self, table: str) -> int:
        """How many documents ``table`` holds."""
        with self._lock:
            t = self._ensure(table)
            return self._conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]

    def tables(self) -> list[str]:
        """Names of the tables in this database, sorted."""
        with self._lock:
            rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").fetchall()
        return [name for (name,) in rows]

    def rows(self) -> int:
        """Total rows over every table (what the live view shows per service)."""
        with self._lock:
            return sum(self._conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in self.tables())

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __repr__(self) -> str:
        return f"Database(owner={self.owner!r}, tables={self.tables()})"


class Databases:
    """Creates one database per service and opens it only for its owner."""

    def __init__(self) -> None:
        self._dbs: dict[str, Database] = {}

    def create(self, owner: str, path: str = ":memory:",
               on_write: Callable[[str, int], None] | None = None) -> Database:
        """Create ``owner``'s database (once)."""
        if owner in self._dbs:
            raise ValueError(f"{owner!r} already has a database")
        db = self._dbs[owner] = Database(owner, path, on_write)
        return db

    def open(self, name: str, *, by: str) -> Database:
        """Open ``name``'s database on behalf of ``by``: only the owner may."""
        if name not in self._dbs:
            raise KeyError(f"no database belongs to {name!r}")
        if by != name:
            raise PermissionError(
                f"{by!r} may not open the database of {name!r}: each service owns its data; "
                f"ask {name!r} through its API or listen to its events")
        return self._dbs[name]

    def owners(self) -> list[str]:
        """Services that have a database, sorted."""
        return sorted(self._dbs)

