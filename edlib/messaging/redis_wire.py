"""What the Redis Streams bus puts on the wire: names, event encoding, packed XADDs, dead-letter fields, errors.

No connection here: :mod:`edlib.messaging.redis_streams` uses them, and they
are tested on their own (tests/unit/test_redis_wire.py).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from edlib.core.events import Event
from edlib.messaging.protocol import DeadLetter

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True)
class PendingEntry:
    """One entry of a group's pending list (XPENDING): delivered, not acked yet."""

    topic: str
    partition: int
    stream_id: str
    consumer: str
    idle_ms: int
    deliveries: int


def safe_url(url: str) -> str:
    """``url`` without its password (safe to print)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_name(kind: str, name: Any) -> str:
    """``name`` if it is a usable key part (1-100 letters, digits, '_', '.', '-'); else ValueError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"a {kind} name is 1-100 letters, digits, '_', '.' or '-', got {name!r}")
    return name


def wire(event: Event) -> bytes:
    """``event.to_json()`` as UTF-8 bytes, made faster: the same text, without copying the data first.

    (``to_json`` thaws the read-only data into plain dicts; the JSON encoder reads the
    frozen dicts and tuples as they are. ``tests/broker`` checks both give the same text.)
    """
    return _ENCODE(vars(event)).encode("utf-8")


def packed_xadds(keys: list[bytes], chunk: list[tuple[int, bytes]]) -> bytes:
    """The RESP commands ``XADD key * event JSON`` for each ``(partition, JSON)`` of ``chunk``, packed once.

    (redis-py's pipeline packs each command separately, which costs more than the XADD itself.)
    """
    return b"".join(b"*5\r\n$4\r\nXADD\r\n$%d\r\n%b\r\n$1\r\n*\r\n$5\r\nevent\r\n$%d\r\n%b\r\n"
                    % (len(keys[p]), keys[p], len(text), text) for p, text in chunk)


def send_packed(pool: Any, packed: bytes, replies: int) -> list[Any]:
    """Write ``packed`` commands on one connection of ``pool`` and read ``replies`` replies."""
    conn = pool.get_connection()
    try:
        conn.send_packed_command([packed])
        return [conn.read_response() for _ in range(replies)]
    except BaseException:
        conn.disconnect()                      # replies may be left unread: never reuse it
        raise
    finally:
        pool.release(conn)


def dead_letter_fields(topic: str, group: str, sid: str, raw: str, reason: str, deliveries: int) -> dict[str, str]:
    """The fields of a dead-letter stream entry."""
    return {"topic": topic, "group": group, "stream_id": sid, "event": raw, "reason": reason,
            "deliveries": str(deliveries)}


def dead_letter_of(fields: dict[bytes, bytes]) -> DeadLetter:
    """A dead-letter stream entry read back (its event None if what was stored is not one)."""
    f = {k.decode(): v.decode() for k, v in fields.items()}
    try:
        event: Event | None = Event.from_json(f.get("event", ""))
    except (TypeError, ValueError):
        event = None
    return DeadLetter(f.get("topic", ""), f.get("group", ""), f.get("stream_id", ""), f.get("reason", ""),
                      int(f.get("deliveries", 0)), event, "" if event is not None else f.get("event", ""))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its class name if it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class BrokerUnavailable(ConnectionError):
    """The broker cannot be reached (or refused us): the message says where and what to do."""


@contextmanager
def talking(url: str) -> Iterator[None]:
    """Turn redis-py's connection errors into one clear :class:`BrokerUnavailable` naming ``url``."""
    try:
        yield
    except redis.AuthenticationError as exc:  # pragma: no cover (needs a password-protected server)
        raise BrokerUnavailable(f"the Redis broker at {safe_url(url)} refused us: "
                                f"{first_line(exc)}; check the password in the URL") from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise BrokerUnavailable(
            f"cannot reach the Redis broker at {safe_url(url)} ({first_line(exc)}). Is redis-server "
            "running there? Start one (redis-server --port 6379 --save '') or pass the right URL "
            "(--broker redis://HOST:PORT).") from None
