"""The static picture of a topology on one Axes, and the geometry that moving markers follow.

A :class:`Scene` lays the graph out (:func:`~edlib.viz.layout.layered_layout`), draws a
labelled box per node and one line per connection (arrows clipped to the boxes), and
knows the path a marker travelling from one node to another follows. A connection between
two nodes of one column that would run through the nodes between them (``orders`` calling
``payments`` past ``email``) bends out to the left instead, the further the more it skips.
"""
from __future__ import annotations

import math

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.textpath import TextPath

from edlib.viz.figure import root_figure
from edlib.viz.layout import Position, layered_layout
from edlib.viz.style import EDGES, FONT_SIZE, ROLES, SMALL_FONT, RoleStyle

PAD_PT = (6.0, 4.0)
"""Space between a label and its box, in points (x, y)."""

BEND = 0.44
"""How far a bent path's control point lies left of its chord, as a fraction of the chord."""

GAP_PT = 2.5
"""Space between a box and the end of an arrow or a marker's path, in points."""


class Scene:
    """The topology ``graph`` drawn on ``ax``: node boxes, edges by kind, a legend."""

    def __init__(self, graph: nx.DiGraph, ax: Axes, title: str | None = None, legend: bool = True) -> None:
        self.graph, self.ax = graph, ax
        self.pos: dict[str, Position] = layered_layout(graph)
        self.roles: dict[str, str] = dict(graph.nodes(data="role"))
        self._set_limits(title)
        self.half: dict[str, tuple[float, float]] = {n: self._half_size(n) for n in sorted(graph)}
        for node in sorted(graph):
            self.draw_node(node, ROLES[self.roles[node]])
        meanings = self._draw_edges()
        if legend and meanings:
            self._legend(meanings)
        if title:
            ax.set_title(title, fontsize=FONT_SIZE + 1)

    # -- geometry ------------------------------------------------------------------
    def _set_limits(self, title: str | None) -> None:
        xs = [x for x, _ in self.pos.values()] or [0.0]
        ys = [y for _, y in self.pos.values()] or [0.0]
        self.ax.set_xlim(min(xs) - 0.62, max(xs) + 0.62)
        self.ax.set_ylim(min(ys) - 0.55, max(ys) + 0.55)
        self.ax.set_axis_off()
        fig = root_figure(self.ax)
        box = self.ax.get_position()
        width_pt = fig.get_figwidth() * box.width * 72.0
        height_pt = fig.get_figheight() * box.height * 72.0
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        self.per_pt = ((x1 - x0) / width_pt, (y1 - y0) / height_pt)

    def _half_size(self, node: str) -> tuple[float, float]:
        text = TextPath((0, 0), node, size=FONT_SIZE).get_extents()
        w_pt = max(text.width, FONT_SIZE * 2) + 2 * PAD_PT[0]
        h_pt = FONT_SIZE * 1.15 + 2 * PAD_PT[1]
        return w_pt / 2 * self.per_pt[0], h_pt / 2 * self.per_pt[1]

    def endpoints(self, a: str, b: str) -> tuple[Position, Position]:
        """Where a path from node ``a`` to node ``b`` leaves ``a``'s box and enters ``b``'s."""
        (ax_, ay), (bx, by) = self.pos[a], self.pos[b]
        dx, dy = bx - ax_, by - ay
        gx, gy = GAP_PT * self.per_pt[0], GAP_PT * self.per_pt[1]

        def exit_fraction(node: str) -> float:
            hw, hh = self.half[node]
            fx = (hw + gx) / abs(dx) if dx else math.inf
            fy = (hh + gy) / abs(dy) if dy else math.inf
            return min(fx, fy)

        ta, tb = exit_fraction(a), exit_fraction(b)
        if ta + tb >= 1.0:
            return (ax_, ay), (bx, by)
        return (ax_ + ta * dx, ay + ta * dy), (bx - tb * dx, by - tb * dy)

    def route(self, a: str, b: str) -> tuple[Position, Position, Position]:
        """The path from node ``a`` to node ``b``: its start, its end, and its bend.

        The path is the quadratic curve ``start + f * (end - start) + 2 * f * (1 - f) * bend``
        for ``f`` from 0 to 1: a straight line when ``bend`` is ``(0, 0)``, which it is unless
        the two nodes share a column with other nodes between them.
        """
        (ax_, ay), (bx, by) = self.pos[a], self.pos[b]
        between = ax_ == bx and any(x == ax_ and min(ay, by) < y < max(ay, by)
                                    for n, (x, y) in self.pos.items() if n not in (a, b))
        if not between:
            start, end = self.endpoints(a, b)
            return start, end, (0.0, 0.0)
        (gx, gy), (hw, hh) = (GAP_PT * self.per_pt[0], GAP_PT * self.per_pt[1]), self.half[a]
        down = 1.0 if by < ay else -1.0   # leave through the bottom (or top) of a's box, enter b's left side
        start, end = (ax_ - hw / 2, ay - down * (hh + gy)), (bx - self.half[b][0] - gx, by)
        chord_pt = abs(by - ay) / self.per_pt[1]
        return start, end, (-BEND * chord_pt * self.per_pt[0], 0.0)

    # -- drawing -------------------------------------------------------------------
    def draw_node(self, node: str, style: RoleStyle, animated: bool = False,
                  zorder: float = 3.0) -> tuple[FancyBboxPatch, Text]:
        """Draw ``node``'s box in ``style`` (the live view redraws a service that is down this way)."""
        (x, y), (hw, hh) = self.pos[node], self.half[node]
        aspect = self.per_pt[1] / self.per_pt[0]
        radius = 4.0 * self.per_pt[0]
        patch = FancyBboxPatch((x - hw, y - hh), 2 * hw, 2 * hh, boxstyle=f"{style.boxstyle},pad=0" + (
            f",rounding_size={radius}" if style.boxstyle != "square" else ""), mutation_aspect=aspect,
            facecolor=style.face, edgecolor=style.edge, linewidth=1.2, zorder=zorder, animated=animated)
        text = Text(x, y, node, ha="center", va="center", fontsize=FONT_SIZE, color="#1b2631",
                    zorder=zorder + 0.1, animated=animated)
        self.ax.add_patch(patch)
        self.ax.add_artist(text)
        return patch, text

    def _draw_edges(self) -> list[str]:
        meanings: list[str] = []
        done: set[tuple[str, str]] = set()
        for a, b, kind in sorted(self.graph.edges(data="kind"), key=lambda e: (e[0], e[1])):
            if (a, b) in done:
                continue
            both = self.graph.has_edge(b, a)
            done.update({(a, b), (b, a)})
            style = EDGES.get(kind, EDGES["call"])
            start, end, bend = self.route(a, b)
            control = ((start[0] + end[0]) / 2 + bend[0], (start[1] + end[1]) / 2 + bend[1])
            path = Path([start, control, end], [Path.MOVETO, Path.CURVE3, Path.CURVE3])
            arrow = FancyArrowPatch(path=path, arrowstyle="<|-|>" if both else "-|>", mutation_scale=9,
                                    color=style.color, linewidth=style.width, linestyle=style.linestyle,
                                    shrinkA=0, shrinkB=0, zorder=1)
            self.ax.add_patch(arrow)
            if style.meaning not in meanings:
                meanings.append(style.meaning)
        return meanings

    def _legend(self, meanings: list[str]) -> None:
        by_meaning = {s.meaning: s for s in EDGES.values()}
        handles = [Line2D([], [], color=s.color, linestyle=s.linestyle, linewidth=s.width, label=m)
                   for m, s in by_meaning.items() if m in meanings]
        self.ax.legend(handles=handles, loc="lower left", fontsize=SMALL_FONT, frameon=False,
                       handlelength=2.6, borderaxespad=0.2, labelspacing=0.3)
