"""Handlers: plain functions that ask for what they need by parameter name.

::

    def ship(event, db, publish):      # the event, the service's own database, publish
        ...

The first parameter receives the request data or the event; the others are *injected*
by name from :data:`INJECTABLE`. :meth:`Handler.wrap` checks this once, where the
handler is registered, so a typo fails at once and not at the first event.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edlib.core.schemas import validator

INJECTABLE = ("db", "publish", "outbox", "service", "now")
"""Names a handler may ask for: its service's ``db``, ``publish`` (sent after commit),
``outbox`` (written in the same transaction), the ``service`` itself, and ``now`` (ms)."""


class InvalidEvent(ValueError):
    """An event that breaks its handler's schema: retrying cannot help, so it is dead-lettered at once."""


class NotFound(LookupError):
    """Raise from an endpoint when the thing asked for does not exist (the gateway answers 404)."""


@dataclass(frozen=True)
class Handler:
    """A registered function, the dependencies it asked for, and the schema of its input."""

    fn: Callable[..., Any]
    wants: tuple[str, ...]
    schema: Any = None

    @classmethod
    def wrap(cls, fn: Callable[..., Any], schema: Any = None) -> Handler:
        """Check ``fn``'s parameters (and ``schema``) now and remember what it wants injected."""
        if not callable(fn):
            raise TypeError(f"a handler must be a function, got {type(fn).__name__}")
        params = list(inspect.signature(fn).parameters.values())
        if not params:
            raise TypeError(f"{fn.__name__}() must take at least one parameter (the data or event)")
        wanted = [p.name for p in params[1:] if p.name in INJECTABLE]
        unknown = [p.name for p in params[1:] if p.name not in INJECTABLE and p.default is inspect.Parameter.empty]
        if unknown:
            raise TypeError(f"{fn.__name__}() asks for {unknown}; a handler may ask for {list(INJECTABLE)}")
        if schema is not None:
            validator(schema)                         # a broken schema fails here, where it is written
        return cls(fn, tuple(wanted), schema)
