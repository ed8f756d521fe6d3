"""Contract tests: does what a publisher sends still satisfy what each consumer relies on?

A consumer writes down, as a JSON Schema, the fields of an event it reads (its
*contract*); the publisher's test suite runs the publisher, collects the events it
publishes and verifies each against every consumer's contract. A breaking change (a
renamed field, a changed type) then fails the publisher's tests, before deployment,
with a message naming the consumer and the field::

    contract = Contract("inventory", "OrderPlaced", {"type": "object",
                        "required": ["sku", "qty"], "properties": {...}})
    contract.check(published_events)     # raises ContractBroken (an AssertionError)

:func:`compare` checks the same statically, against the schema a publisher declares.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edlib.core.events import Event, check_event_type
from edlib.core.payloads import thaw
from edlib.core.schemas import validator


class ContractBroken(AssertionError):
    """A publisher's events break a consumer's contract (an AssertionError, so tests fail with it)."""


def _where(path: Iterable[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


@dataclass(frozen=True)
class Contract:
    """What ``consumer`` relies on in events of ``event_type``: a JSON Schema of their data.

    Require only the fields the consumer reads (a *tolerant reader*): then a publisher
    may add fields freely, and only changes that hurt this consumer break the contract.
    """

    consumer: str
    event_type: str
    schema: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.consumer, str) or not self.consumer:
            raise ValueError(f"consumer must be a service name, got {self.consumer!r}")
        check_event_type(self.event_type)
        validator(self.schema)                      # a broken schema fails where it is written

    def problems(self, data: Any) -> list[str]:
        """Every way ``data`` (one event's data) breaks the contract; [] if it keeps it."""
        errors = sorted(validator(self.schema).iter_errors(thaw(data)),
                        key=lambda e: (list(map(str, e.absolute_path)), e.message))
        return [f"{self.consumer} relies on {self.event_type} data{_where(e.absolute_path)}: {e.message}"
                for e in errors]

    def verify(self, events: Iterable[Any]) -> list[str]:
        """Problems over ``events`` of this type (Events, recorded publishes, or plain data dicts).

        Each problem names the event (its id, or its position). No event of this type at
        all is a problem too: nothing was verified.
        """
        found, out = 0, []
        for i, item in enumerate(events, 1):
            event_type, data, name = _unpack(item, self.event_type, i)
            if event_type != self.event_type:
                continue
            found += 1
            out += [f"{name}: {p}" for p in self.problems(data)]
        if not found:
            out.append(f"no {self.event_type} event was published, so {self.consumer}'s contract "
                       "was not verified")
        return out

    def check(self, events: Iterable[Any]) -> None:
        """Raise :class:`ContractBroken` listing every problem, if there is any."""
        problems = self.verify(events)
        if problems:
            raise ContractBroken("contract broken: " + "; ".join(problems))


def _unpack(item: Any, default_type: str, position: int) -> tuple[str, Any, str]:
    if isinstance(item, Event):
        return item.type, item.data, item.id
    if hasattr(item, "type") and hasattr(item, "data"):          # fakes.Published
        return item.type, item.data, f"event {position}"
    if isinstance(item, Mapping):
        return default_type, item, f"event {position}"
    raise TypeError(f"cannot verify {type(item).__name__}: give Events, recorded publishes or data dicts")


def compare(publisher_schema: Mapping[str, Any], contract: Contract) -> list[str]:
    """Static check: does the publisher's declared schema promise every field the contract requires?

    Looks at top-level ``required`` and each property's ``type``; returns one problem per
    field the publisher does not promise, or promises with another type.
    """
    validator(publisher_schema)
    promised = set(publisher_schema.get("required", []))
    offered = publisher_schema.get("properties", {})
    wanted = contract.schema.get("properties", {})
    out = []
    for name in contract.schema.get("required", []):
        if name not in promised:
            has = "optional" if name in offered else "absent"
            out.append(f"{contract.consumer} requires {contract.event_type}.{name}, which the publisher's "
                       f"schema does not promise ({has}; it promises {sorted(promised)})")
            continue
        want, got = wanted.get(name, {}).get("type"), offered.get(name, {}).get("type")
        if want is not None and got is not None and want != got:
            out.append(f"{contract.consumer} reads {contract.event_type}.{name} as {want}, "
                       f"but the publisher sends {got}")
    return out
