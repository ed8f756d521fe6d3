"""Sensitive fields: mask or drop them before an event leaves the service, and check the log.

Events are kept (the log is the history) and read by every subscriber, now and later, so
a card number or an e-mail address in an event is copied to every consumer and stays
in the log. Keep such fields out of events, or mask them::

    redact(order, drop=["email"], mask={"card_number": mask_card})
    # {'order_id': 'order-1', 'card_number': '**** 4242'}

:func:`search_log` checks afterwards: which events on the bus contain a secret.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edlib.core.payloads import thaw
from edlib.messaging.memory import InMemoryBus

MASK = "*"


def mask_card(number: Any) -> str:
    """``"4242424242424242"`` -> ``"**** 4242"``: only the last four digits stay.

    Spaces and dashes are ignored; anything but 12 to 19 digits raises ValueError (so a
    wrong field is noticed, not masked into nonsense).
    """
    if not isinstance(number, str):
        raise TypeError(f"a card number is a string of digits, got {type(number).__name__}")
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise ValueError("not a card number: expected 12 to 19 digits")
    return f"{MASK * 4} {digits[-4:]}"


def mask_email(address: Any) -> str:
    """``"ada.mockley@example.com"`` -> ``"a***@example.com"``: the first letter and the domain stay."""
    if not isinstance(address, str):
        raise TypeError(f"an e-mail address is a string, got {type(address).__name__}")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an e-mail address: expected name@domain")
    return f"{local[0]}{MASK * 3}@{domain}"


def redact(data: Mapping[str, Any], *, drop: Iterable[str] = (),
           mask: Mapping[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
    """A copy of ``data`` without the ``drop`` fields and with each ``mask`` field masked.

    Fields that are absent are ignored; a None value stays None (nothing to hide). The
    original is not changed.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"redact() takes a dict, got {type(data).__name__}")
    dropped = {drop} if isinstance(drop, str) else set(drop)
    masks = dict(mask or {})
    both = sorted(dropped & set(masks))
    if both:
        raise ValueError(f"fields both dropped and masked: {both}")
    out = {}
    for key, value in data.items():
        if key in dropped:
            continue
        out[key] = masks[key](value) if key in masks and value is not None else thaw(value)
    return out


@dataclass(frozen=True)
class Leak:
    """A secret found in an event on the bus: where, and which secret (by its label)."""

    topic: str
    event_type: str
    event_id: str
    secret: str


def search_log(bus: InMemoryBus, secrets: Mapping[str, str] | Iterable[str]) -> list[Leak]:
    """Every (event, secret) pair where the event on the bus (its JSON: data, key, ids) contains the secret.

    ``secrets``: the strings to look for, or a mapping label -> string (the label is what
    the result shows, so a report need not print the secret itself). Topics in name
    order, events in log order.
    """
    labelled = dict(secrets) if isinstance(secrets, Mapping) else {s: s for s in secrets}
    empty = [label for label, s in labelled.items() if not isinstance(s, str) or not s]
    if empty:
        raise ValueError(f"secrets must be non-empty strings: {empty}")
    found = []
    for topic in bus.topics():
        for event in bus.log(topic):
            text = event.to_json()
            found += [Leak(topic, event.type, event.id, label) for label, s in labelled.items() if s in text]
    return found
