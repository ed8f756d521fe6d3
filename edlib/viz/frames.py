"""Frames of the live view: the topology drawn once, then per frame only what moves.

:class:`FrameRenderer` draws the static picture (nodes, edges, legends) once and keeps
its pixels. A frame restores them, pastes the state overlays (a service that is down,
database gauges, labels such as "3 waiting" and the clock) from
:class:`~edlib.viz.stamps.Stamps`, draws the markers in flight in one collection
(blitting) and encodes the pixels as PNG. With ``blit=False`` it redraws everything
each frame instead: the same pixels, the slow way (the benchmark's baseline).
"""
from __future__ import annotations

import networkx as nx
import numpy as np
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle
from matplotlib.path import Path

from edlib.viz.celltext import CellText
from edlib.viz.figure import SIZE_PX, agg_canvas, agg_figure
from edlib.viz.graph import DEAD_LETTERS
from edlib.viz.playback import Playback
from edlib.viz.png import encode_png
from edlib.viz.scene import Scene
from edlib.viz.stamps import Stamps
from edlib.viz.style import DOWN, FAIL, RETRY_RING, SHAPES, SMALL_FONT, SYNC, WRITE, event_color, marker_style

_EMPTY = np.empty((0, 2))

GAUGE_STEPS = 50
"""A database gauge fills in this many steps (each look is stamped once)."""

WAITING = "#b35900"


def _marker_path(shape: str) -> Path:
    """The unit path of a marker shape, as ``scatter`` draws it."""
    style = MarkerStyle(shape)
    return style.get_path().transformed(style.get_transform())


class FrameRenderer:
    """Renders :class:`Playback` frames of ``graph`` at ``size_px``."""

    def __init__(self, playback: Playback, graph: nx.DiGraph, size_px: tuple[int, int] = SIZE_PX,
                 blit: bool = True) -> None:
        self.playback, self.graph, self.blit = playback, graph, blit
        self.palette: dict[str, str] = {}
        for r in playback.records:
            if r.kind in ("publish", "deliver"):
                event_color(r.label, self.palette)
        self.fig = agg_figure(size_px)
        self._build()
        self._hops()
        if blit:
            canvas = agg_canvas(self.fig)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._stamps = Stamps(canvas, self._background)

    # -- the picture ---------------------------------------------------------------
    def _build(self) -> None:
        self.fig.clear()
        ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        scene = self.scene = Scene(self.graph, ax)
        animated = self.blit
        self._markers = ax.scatter([], [], animated=animated, zorder=6)
        services = [s for s in self.playback.services if s in scene.pos]
        self._down = {s: scene.draw_node(s, DOWN, animated=animated, zorder=4.5) for s in services}
        bus_y = scene.pos.get("bus", (0.0, -np.inf))[1]
        self._badges = {s: self._label_near(s, 22, above=scene.pos[s][1] > bus_y, bold=True) for s in services}
        with_db = [s for s in services if f"{s}.db" in scene.pos]
        self._gauges = {s: self._gauge(f"{s}.db") for s in with_db}
        self._rows = {s: self._label_near(f"{s}.db", 12, gap_pt=7.0) for s in with_db}
        self._capacity = max([st.rows for st in self.playback.services_at(self.playback.end)] + [1])
        self._dead = self._label_near(DEAD_LETTERS, 12) if DEAD_LETTERS in scene.pos else None
        height = self.fig.bbox.height
        self._clock = CellText(ax, "clock", 6, height - 5, 18, ha="left", va="top", animated=animated)
        self._labels = list(self._badges.values()) + list(self._rows.values()) + [self._clock] + (
            [self._dead] if self._dead is not None else [])
        self._legend(ax)

    def _label_near(self, node: str, width: int, above: bool = False, bold: bool = False,
                    gap_pt: float = 2.0) -> CellText:
        """A label centred above or below ``node``'s box (the side away from incoming edges)."""
        scene = self.scene
        (x, y), (_, hh) = scene.pos[node], scene.half[node]
        dy = (hh + gap_pt * scene.per_pt[1]) * (1 if above else -1)
        px, py = scene.ax.transData.transform((x, y + dy))
        return CellText(scene.ax, (node, above), px, py, width, va="bottom" if above else "top", bold=bold,
                        animated=self.blit)

    def _gauge(self, node: str) -> Rectangle:
        """A bar under a database's box that fills as its rows grow (its empty track is static)."""
        scene = self.scene
        (x, y), (hw, hh) = scene.pos[node], scene.half[node]
        top, height = y - hh - 1.5 * scene.per_pt[1], 3.0 * scene.per_pt[1]
        track = Rectangle((x - hw, top - height), 2 * hw, height, facecolor="#e8ece9", edgecolor="none", zorder=2)
        scene.ax.add_patch(track)
        bar = Rectangle((x - hw, top - height), 0.0, height, facecolor="#2e7d32", edgecolor="none", zorder=2.5,
                        animated=self.blit)
        scene.ax.add_patch(bar)
        return bar

    def _legend(self, ax) -> None:
        kinds = {r.kind for r in self.playback.hops}

        def dot(label: str, marker: str, face, edge="white", width=0.6) -> Line2D:
            return Line2D([], [], linestyle="", marker=marker, markersize=6, markerfacecolor=face,
                          markeredgecolor=edge, markeredgewidth=width, label=label)

        handles = [dot(label, "o", color) for label, color in list(self.palette.items())[:6]]
        if "ack" in kinds:
            handles.append(dot("ack", "o", "white", "#555555", 1.2))
        if kinds & {"request", "call"}:
            handles.append(dot("request / call", "s", SYNC))
        if kinds & {"response", "reply"}:
            handles.append(dot("response / reply", "s", "white", SYNC, 1.2))
        if "write" in kinds:
            handles.append(dot("write", "D", WRITE))
        if "retry" in kinds:
            handles.append(dot("retry", "o", "#bbbbbb", RETRY_RING, 2.0))
        if kinds & {"fail", "dead_letter"} or not all(r.ok for r in self.playback.hops):
            handles.append(dot("failed", "X", FAIL))
        if handles:
            (_, client_y), (y0, y1) = self.scene.pos.get("client", (0.0, 0.0)), ax.get_ylim()
            high = (client_y - y0) / (y1 - y0) > 0.6      # the client is up there: keep clear of it
            labels = [str(h.get_label()) for h in handles]
            legend = Legend(ax, handles, labels, loc="lower left" if high else "upper left", fontsize=SMALL_FONT,
                            frameon=False, bbox_to_anchor=(0.0, 0.14 if high else 0.94),
                            borderaxespad=0.3, labelspacing=0.25, handletextpad=0.3)
            ax.add_artist(legend)

    def _hops(self) -> None:
        hops, scene = self.playback.hops, self.scene
        routes = [scene.route(r.source, r.target) for r in hops]
        self._p0 = np.array([a for a, _, _ in routes], float).reshape(-1, 2)
        self._dp = np.array([b for _, b, _ in routes], float).reshape(-1, 2) - self._p0
        self._bend = np.array([c for _, _, c in routes], float).reshape(-1, 2)
        self._start = np.array(self.playback.hop_starts, float)
        styles = [marker_style(r.kind, r.label, r.ok, self.palette) for r in hops]
        self._paths = [_marker_path(shape) for shape in SHAPES]
        self._shape = np.array([SHAPES.index(s.shape) for s in styles], int)
        self._size = np.array([s.size for s in styles], float)
        self._face = np.array([s.face for s in styles], float).reshape(-1, 4)
        self._edge = np.array([s.edge for s in styles], float).reshape(-1, 4)
        self._width = np.array([s.width for s in styles], float)

    # -- a frame -------------------------------------------------------------------
    def _overlays(self, t: float, annotate: bool) -> list[tuple]:
        """Set the state artists for time ``t``; return the visible ones as (key for their look, artists, extent).

        ``annotate``: also each database's rows (for stills; live, the widget shows
        them beside the picture).
        """
        items: list[tuple] = []
        for patch, label in self._down.values():
            patch.set_visible(False)
            label.set_visible(False)
        for line in self._labels:
            line.hide()
        for st in self.playback.services_at(t):
            if not st.up:
                patch, label = self._down[st.service]
                patch.set_visible(True)
                label.set_visible(True)
                items.append(((st.service, "down"), [patch, label], None))
            if st.service in self._gauges:
                steps = round(GAUGE_STEPS * min(1.0, st.rows / self._capacity))
                gauge = self._gauges[st.service]
                gauge.set_width(2 * self.scene.half[f"{st.service}.db"][0] * steps / GAUGE_STEPS)
                items.append(((st.service, "gauge", steps), [gauge], None))
            if st.backlog or not st.up:
                text = ("down" + (" · " if st.backlog else "") if not st.up else "") + (
                    f"{st.backlog} waiting" if st.backlog else "")
                self._badges[st.service].set(text, FAIL if not st.up else WAITING)
            if annotate and st.service in self._rows:
                self._rows[st.service].set(f"{st.rows} row{'s' if st.rows != 1 else ''}")
        if self._dead is not None:
            dead = self.playback.dead_letters_at(t)
            self._dead.set(f"{dead} event{'s' if dead != 1 else ''}")
        self._clock.set(f"t = {t:9.1f} ms")
        for line in self._labels:
            items += line.items()
        return items

    def _move_markers(self, t: float) -> None:
        """Put every marker in flight at time ``t`` where it is, in one collection (one draw call)."""
        a, b = self.playback.in_flight(t)
        frac = ((t - self._start[a:b]) / self.playback.travel_ms)[:, None]
        markers = self._markers
        markers.set_offsets(self._p0[a:b] + frac * self._dp[a:b] + 2 * frac * (1 - frac) * self._bend[a:b]
                            if b > a else _EMPTY)
        markers.set_paths([self._paths[k] for k in self._shape[a:b]])
        markers.set_sizes(self._size[a:b])
        markers.set_facecolor(self._face[a:b])  # type: ignore[arg-type]  # stubs omit the per-marker arrays it takes
        markers.set_edgecolor(self._edge[a:b])  # type: ignore[arg-type]  # stubs omit the per-marker arrays it takes
        markers.set_linewidth(self._width[a:b])  # type: ignore[arg-type]  # stubs omit the per-marker arrays it takes

    def draw(self, t: float, annotate: bool = False) -> np.ndarray:
        """The frame at virtual time ``t`` as an ``(height, width, 4)`` RGBA array (a view, not a copy).

        ``annotate``: also print each database's rows (for stills).
        """
        canvas = agg_canvas(self.fig)
        if not self.blit:
            self._build()
        items = self._overlays(t, annotate)
        self._move_markers(t)
        if not self.blit:
            canvas.draw()
            return np.asarray(canvas.buffer_rgba())
        for key, artists, extent in items:
            self._stamps.prepare(key, artists, extent)
        canvas.restore_region(self._background)
        for key, _, _ in items:
            self._stamps.paste(key)
        self.scene.ax.draw_artist(self._markers)
        return np.asarray(canvas.buffer_rgba())

    def render(self, t: float, annotate: bool = False) -> bytes:
        """The frame at virtual time ``t`` as PNG bytes, ready for an image widget."""
        return encode_png(self.draw(t, annotate))
