"""The visual vocabulary shared by every picture: colours by role, lines by edge kind, markers by record.

One place decides what a service, an event or a failure looks like, so the topology,
the timeline and the live view all speak the same language.
"""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.colors import to_rgba
from matplotlib.typing import LineStyleType

FONT_SIZE = 9.0
"""Node labels, in points (legible at 700x350 px)."""

SMALL_FONT = 7.0
"""Badges, legend and captions, in points."""

FAIL = "#d62728"
SYNC = "#34495e"
WRITE = "#5d6d7e"
RETRY_RING = "#ff8c00"


@dataclass(frozen=True)
class RoleStyle:
    """How a node of one role is drawn: fill, outline and box corner style."""

    face: str
    edge: str
    boxstyle: str = "round"


ROLES: dict[str, RoleStyle] = {
    "client": RoleStyle("#eeeeee", "#666666"),
    "gateway": RoleStyle("#fde9c9", "#c77c02"),
    "service": RoleStyle("#dbe9f6", "#1f4e79"),
    "database": RoleStyle("#e3f1e0", "#2e7d32", "square"),
    "bus": RoleStyle("#ece1f5", "#6a3d9a", "round4"),
    "dead letters": RoleStyle("#f9dcdc", "#b71c1c", "square"),
}

DOWN = RoleStyle("#d5d8dc", FAIL)
"""A service that is down: grey, red outline."""


@dataclass(frozen=True)
class EdgeStyle:
    """How an edge of one kind is drawn."""

    color: str
    linestyle: LineStyleType
    width: float
    meaning: str


EDGES: dict[str, EdgeStyle] = {
    "request": EdgeStyle(SYNC, "solid", 1.4, "request / sync call"),
    "call": EdgeStyle(SYNC, "solid", 1.4, "request / sync call"),
    "publish": EdgeStyle("#6a3d9a", "dashed", 1.3, "event"),
    "deliver": EdgeStyle("#6a3d9a", "dashed", 1.3, "event"),
    "write": EdgeStyle(WRITE, "solid", 0.7, "database write"),
    "dead_letter": EdgeStyle(FAIL, "dotted", 1.0, "dead letter"),
}

EVENT_COLORS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#2ca02c")
"""Marker colours given to event types in the order they first appear (no red: red means failure)."""

SHAPES = ("o", "s", "D", "X")
"""Marker shapes: events, sync messages, writes, failures."""


@dataclass(frozen=True)
class MarkerStyle:
    """How one moving record is drawn."""

    shape: str
    size: float
    face: tuple[float, float, float, float]
    edge: tuple[float, float, float, float]
    width: float


def event_color(label: str, palette: dict[str, str]) -> str:
    """The colour of event type ``label``, assigning the next free one the first time it is seen."""
    if label not in palette:
        palette[label] = EVENT_COLORS[len(palette) % len(EVENT_COLORS)]
    return palette[label]


def marker_style(kind: str, label: str, ok: bool, palette: dict[str, str]) -> MarkerStyle:
    """The marker of a record of ``kind``: events by type colour, sync messages square, failures red."""
    white = to_rgba("white")
    if kind == "fail":
        return MarkerStyle("X", 90, to_rgba(FAIL), to_rgba("white"), 0.6)
    if kind == "dead_letter":
        return MarkerStyle("X", 110, to_rgba("black"), to_rgba(FAIL), 1.6)
    if kind == "write":
        return MarkerStyle("D", 32, to_rgba(WRITE), white, 0.5)
    if kind in ("request", "call"):
        return MarkerStyle("s", 48, to_rgba(SYNC), white, 0.6)
    if kind in ("response", "reply"):
        face = to_rgba("white") if ok else to_rgba(FAIL)
        return MarkerStyle("s", 40, face, to_rgba(FAIL if not ok else SYNC), 1.4)
    color = to_rgba(event_color(label, palette))
    if kind == "ack":
        return MarkerStyle("o", 36, white, color, 1.6)
    if kind == "retry":
        return MarkerStyle("o", 80, color, to_rgba(RETRY_RING), 2.4)
    return MarkerStyle("o", 70, color if ok else to_rgba(FAIL), white, 0.8)
