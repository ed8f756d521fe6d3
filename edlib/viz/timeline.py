"""``draw_timeline``: a trace as a sequence diagram, one vertical lane per node.

Time runs down the page, one row per record (its virtual time on the left); an arrow
goes from the lane of the record's source to the lane of its target, coloured like the
live view's markers (events by type, sync messages dark, writes grey, failures red).
A service's outage is a red band on its lane. Long traces are cut to a window.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from edlib.viz.figure import figure_and_axes
from edlib.viz.graph import check_records, complete_with
from edlib.viz.layout import layered_layout
from edlib.viz.style import FAIL, FONT_SIZE, RETRY_RING, ROLES, SMALL_FONT, marker_style

ROW_IN = 0.2
"""Height of one record's row, in inches."""


def select(records: Iterable[Any], start_ms: float | None = None, end_ms: float | None = None,
           refs: str | Iterable[str] | None = None, kinds: str | Iterable[str] | None = None) -> list:
    """The records inside the time window whose ref and kind match (None: any)."""
    refs = {refs} if isinstance(refs, str) else set(refs) if refs is not None else None
    kinds = {kinds} if isinstance(kinds, str) else set(kinds) if kinds is not None else None
    return [r for r in check_records(records)
            if (start_ms is None or r.time >= start_ms) and (end_ms is None or r.time <= end_ms)
            and (refs is None or r.ref in refs) and (kinds is None or r.kind in kinds)]


def lanes(graph: nx.DiGraph) -> list[str]:
    """Lane order: client, gateway, bus, then each service followed by its database, dead letters last."""
    pos = layered_layout(graph)
    role = dict(graph.nodes(data="role"))
    order: list[str] = [n for n in ("client", "gateway", "bus") if n in graph]
    for svc in sorted((n for n in graph if role[n] == "service"), key=lambda n: (pos[n][0], -pos[n][1], n)):
        order += [svc] + ([f"{svc}.db"] if f"{svc}.db" in graph else [])
    return order + sorted(n for n in graph if n not in order)


def draw_timeline(trace: Any, ax: Axes | None = None, title: str | None = None, *,
                  start_ms: float | None = None, end_ms: float | None = None,
                  refs: str | Iterable[str] | None = None, kinds: str | Iterable[str] | None = None,
                  max_records: int = 40) -> Figure:
    """Draw ``trace`` (a Trace or records) as a sequence diagram and return the Figure.

    ``start_ms``/``end_ms`` keep a time window, ``refs`` the records of some requests or
    events (``"evt-3"``), ``kinds`` some kinds (``"deliver"``); at most ``max_records``
    rows are drawn, and a note says how many more there were. The figure is a pyplot
    figure: in a notebook, end the cell with ``plt.show()``.
    """
    if not isinstance(max_records, int) or isinstance(max_records, bool) or max_records < 1:
        raise ValueError(f"max_records must be a positive int, got {max_records!r}")
    chosen = select(trace, start_ms, end_ms, refs, kinds)
    if not chosen:
        raise ValueError("no trace records to draw: the trace is empty or the filters match nothing "
                         f"(start_ms={start_ms}, end_ms={end_ms}, refs={refs}, kinds={kinds})")
    shown, hidden = chosen[:max_records], len(chosen) - min(len(chosen), max_records)
    graph = complete_with(nx.DiGraph(), shown, strict=False)
    order = lanes(graph)
    top_in, bottom_in = (0.75 if title else 0.45), (0.3 if hidden else 0.1)
    own = ax is None
    fig, ax = figure_and_axes(ax, (700, round(100 * (top_in + bottom_in + ROW_IN * (len(shown) + 1)))))
    if own:
        height = fig.get_figheight()
        ax.set_position((0.1, bottom_in / height, 0.88, 1.0 - (top_in + bottom_in) / height))
    _draw_lanes(ax, graph, order, len(shown))
    _draw_rows(ax, shown, {n: i for i, n in enumerate(order)})
    if hidden:
        ax.text(0.0, -0.01, f"... {hidden} more records (narrow with start_ms/end_ms, refs, kinds or raise "
                f"max_records)", transform=ax.transAxes, fontsize=SMALL_FONT, va="top", color="#555555")
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1, pad=26)
    return fig


def _draw_lanes(ax: Axes, graph: nx.DiGraph, order: list[str], rows: int) -> None:
    ax.set_xlim(-0.5, len(order) - 0.5)
    ax.set_ylim(rows - 0.3, -0.5)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0, labelsize=SMALL_FONT, labelcolor="#555555")
    for i, node in enumerate(order):
        style = ROLES[graph.nodes[node]["role"]]
        ax.axvline(i, color="#c8ccd0", linewidth=0.8, zorder=0)
        ax.annotate(node, (i, 1.0), xytext=(0, 9), xycoords=("data", "axes fraction"),
                    textcoords="offset points", ha="center", va="center", fontsize=SMALL_FONT + 0.5,
                bbox=dict(boxstyle="round,pad=0.3", facecolor=style.face, edgecolor=style.edge, linewidth=0.8))


def _draw_rows(ax: Axes, shown: list, lane: dict[str, int]) -> None:
    palette: dict[str, str] = {}
    ticks, labels, last_time = [], [], None
    down_since: dict[str, int] = {}
    for row, r in enumerate(shown):
        if r.time != last_time:
            ticks.append(row)
            labels.append(f"{r.time:g} ms")
            last_time = r.time
        if r.source == r.target:  # a service went down or up, or crashed
            _state(ax, r, row, lane, down_since)
            continue
        color = _color(r, palette)
        a, b = lane[r.source], lane[r.target]
        ax.add_patch(FancyArrowPatch((a, row), (b, row), arrowstyle="-|>", mutation_scale=8, color=color,
                                     linewidth=0.8 if r.kind == "write" else 1.3, shrinkA=2, shrinkB=2,
                                     linestyle="dotted" if r.kind == "dead_letter" else "solid"))
        text = f"{r.kind} {r.label}" + (f" {r.ref}" if r.ref else "") + ("" if r.ok else " FAILED")
        ax.text((a + b) / 2, row - 0.12, text, ha="center", va="bottom", fontsize=SMALL_FONT - 0.5,
                color=FAIL if not r.ok else "#1b2631")
    for node, row in down_since.items():
        _band(ax, lane[node], row, len(shown) - 0.5)
    ax.set_yticks(ticks, labels)


def _color(r: Any, palette: dict[str, str]) -> Any:
    if not r.ok or r.kind == "fail":
        return FAIL
    if r.kind == "retry":
        return RETRY_RING
    style = marker_style(r.kind, r.label, r.ok, palette)
    return style.edge if style.face == to_rgba("white") else style.face


def _state(ax: Axes, r: Any, row: int, lane: dict[str, int], down_since: dict[str, int]) -> None:
    x = lane[r.source]
    if r.kind == "state" and r.label == "down":
        down_since[r.source] = row
    elif r.kind == "state" and r.source in down_since:
        _band(ax, x, down_since.pop(r.source), row)
    ax.text(x, row, f" {r.label or r.kind} ", ha="center", va="center", fontsize=SMALL_FONT, color="white",
            bbox=dict(boxstyle="round,pad=0.2", facecolor=FAIL if not r.ok else "#2e7d32", linewidth=0))


def _band(ax: Axes, x: float, row_from: float, row_to: float) -> None:
    ax.fill_between([x - 0.05, x + 0.05], row_from, row_to, color=FAIL, alpha=0.25, linewidth=0, zorder=0)
