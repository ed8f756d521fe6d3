"""Testability, measured: what a unit test of an endpoint or handler has to fake, and how much setup it takes.

- :func:`collaborators` lists what a unit test of one function must stand in for: the
  dependencies it asks for (``db``, ``publish``, ``outbox``), and, when it asks for
  ``service`` to call others, each service it calls (as the running world saw it);
- :func:`setup_lines` counts the lines of a test file spent on arranging (fakes,
  stubs, data), as opposed to acting and asserting.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.world import World

VALUES = ("now",)
"""Injected values that are not collaborators (a test just passes a number)."""

_ACT = re.compile(r"^\s*#\s*act\b", re.IGNORECASE)
_ASSERT = re.compile(r"^\s*#\s*assert\b", re.IGNORECASE)
_ARRANGE = re.compile(r"^\s*#\s*arrange\b", re.IGNORECASE)
_DEF = re.compile(r"^(async\s+)?def\s|^class\s|^@")


def collaborators(fn: Callable[..., Any], world: "World | None" = None, service: str | None = None) -> list[str]:
    """What a unit test of ``fn`` must fake, in the order ``fn`` asks for it.

    ``service`` (a name in ``world``) expands the ``service`` parameter into the services
    that one calls, e.g. ``["db", "payments", "inventory", "email"]``.
    """
    from edlib.core.handlers import Handler

    wants = [w for w in Handler.wrap(fn).wants if w not in VALUES]
    if "service" in wants and world is not None and service is not None:
        i = wants.index("service")
        wants[i:i + 1] = sorted(world.service(service).calls) or ["service"]
    return wants


def setup_lines(source: str) -> int:
    """Lines of arranging in a test file: code lines that are not imports, top-level
    ``def``/``class``/decorator lines, ``assert`` lines, blank lines or comments, and that do
    not stand in an act or assert section.

    Sections are marked in the tests by comments: ``# arrange``, ``# act``, ``# assert``;
    a new ``def`` ends them. Helpers outside test functions (fake classes, builders)
    count as setup: a test needs them.
    """
    if not isinstance(source, str):
        raise TypeError(f"source is the text of a test file, got {type(source).__name__}")
    count, section = 0, "arrange"
    for line in source.splitlines():
        text = line.strip()
        if _DEF.match(line):
            section = "arrange"
            continue
        if _ACT.match(line) or _ASSERT.match(line):
            section = "act"
            continue
        if _ARRANGE.match(line):
            section = "arrange"
            continue
        if not text or text.startswith(("#", "import ", "from ", "assert ")):
            continue
        if section == "arrange":
            count += 1
    return count
