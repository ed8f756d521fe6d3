"""Schemas for requests and events, checked with ``jsonschema`` (a well-kept validator).

:func:`check` validates data against a JSON Schema and raises a ``ValueError`` whose
message names the field and the rule broken, e.g. ``request body.qty: -1 is less than
the minimum of 1``, and nothing about the validator's internals.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import jsonschema


def _jsonschema() -> ModuleType:
    """Import jsonschema without its optional IRI format checker.

    When ``rfc3987_syntax`` is installed (Jupyter's dependencies bring it), importing
    jsonschema imports it too, and it builds dozens of parsers: about 2 s of CPU in
    every kernel. edlib never checks string formats, so it tells Python that package is
    unavailable (``None`` in ``sys.modules``) before jsonschema is first imported.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import jsonschema

    return jsonschema


def validator(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for ``schema``; raises ValueError if the schema itself is wrong."""
    jsonschema = _jsonschema()
    try:
        return _validator(_freeze(schema))
    except jsonschema.SchemaError as exc:
        raise ValueError(f"invalid schema: {exc.message}") from None


@lru_cache(maxsize=256)
def _validator(frozen: Any) -> jsonschema.protocols.Validator:
    jsonschema = _jsonschema()
    schema = _thaw(frozen)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


SHOWN_CHARS = 40
"""How much of an offending value an error message repeats (the rest is counted, not echoed)."""


def check(data: Any, schema: Mapping[str, Any], what: str = "data") -> None:
    """Raise ValueError naming the first problem (by field path) if ``data`` breaks ``schema``.

    A long offending value is cut to :data:`SHOWN_CHARS` characters in the message, so an
    answer never echoes a whole payload back to whoever sent it.
    """
    errors = sorted(validator(schema).iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
        message, shown = first.message, repr(first.instance)
        if len(shown) > SHOWN_CHARS and message.startswith(shown):
            message = f"{shown[:SHOWN_CHARS]}... ({len(shown):,} characters){message[len(shown):]}"
        raise ValueError(f"{what}{where}: {message}")


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("__list__",) + tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        if value[:1] == ("__list__",):
            return [_thaw(v) for v in value[1:]]
        return {k: _thaw(v) for k, v in value}
    return value
