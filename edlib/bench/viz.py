"""``python -m edlib.bench viz``: one live-view frame, blitted, against a full redraw.

The standard topology (client, gateway, bus, three services with their databases)
runs a steady stream of orders; frames are taken at moments with exactly 20 markers in
flight, rendered at 700x350 px to PNG bytes by the live view's own path
(:meth:`LiveView.frame`: blitted markers, stamped labels, fast PNG). Two baselines
redraw everything each frame with the same PNG encoder: ``naive_ms_per_frame``
clears the axes and calls ``networkx.draw_networkx`` plus a scatter of the markers (a
plainer picture); ``full_redraw_ms_per_frame`` redraws the live view's own picture
(``FrameRenderer(blit=False)``: the same pixels). Medians in ms, from the same run.
"""
from __future__ import annotations

import statistics
import time
from typing import Any

from edlib.bench import benchmark

IN_FLIGHT = 20
FRAMES = 120
TRAVEL_MS = 16.0
SLOW_EVERY = 4
"""The slow ways are timed on every 4th moment (30 frames)."""


def standard_world(orders: int = 200, every_ms: float = 10.0):
    """Notebook 03's shop (client, gateway, bus, orders, shipping) plus billing, after ``orders`` requests."""
    from edlib.course.scenarios import event_shop, order_bodies

    world = event_shop(seed=1)
    billing = world.add_service("billing", latency_ms=8.0)

    @billing.handles("OrderPlaced")
    def invoice(event, db):
        db.put("invoices", event.data["order_id"], event.data)

    world.send_many("POST /orders", order_bodies(orders), every_ms=every_ms)
    return world


def frame_times(playback: Any, count: int = FRAMES, in_flight: int = IN_FLIGHT) -> list[float]:
    """``count`` moments, spread over the run, with exactly ``in_flight`` markers on their way."""
    grid = [playback.start + i * 0.25 for i in range(int((playback.end - playback.start) / 0.25))]
    hits = [t for t in grid if (lambda ab: ab[1] - ab[0])(playback.in_flight(t)) == in_flight]
    if len(hits) < count:
        raise RuntimeError(f"only {len(hits)} moments with {in_flight} markers in flight")
    return [hits[i * len(hits) // count] for i in range(count)]


def _ms(fn, t: float) -> float:
    began = time.perf_counter()
    fn(t)
    return (time.perf_counter() - began) * 1000.0


def networkx_redraw(renderer: Any):
    """A frame the textbook way: clear, ``networkx.draw_networkx`` the graph, scatter the markers, PNG."""
    import networkx as nx
    import numpy as np

    from edlib.viz.figure import agg_canvas, agg_figure
    from edlib.viz.png import encode_png

    fig = agg_figure()
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))

    def frame(t: float) -> bytes:
        ax.clear()
        ax.set_axis_off()
        nx.draw_networkx(renderer.graph, renderer.scene.pos, ax=ax, node_shape="s", node_size=900, font_size=9,
                         node_color="#dbe9f6", edge_color="#6a3d9a", arrows=True)
        renderer._move_markers(t)
        markers = renderer._markers
        xy = markers.get_offsets()
        ax.scatter(xy[:, 0], xy[:, 1], s=markers.get_sizes(), c=markers.get_facecolor(), zorder=6)
        canvas = agg_canvas(fig)
        canvas.draw()
        return encode_png(np.asarray(canvas.buffer_rgba()))

    return frame


@benchmark("viz")
def viz() -> dict[str, Any]:
    from edlib.viz import LiveView
    from edlib.viz.frames import FrameRenderer

    view = LiveView(standard_world(), travel_ms=TRAVEL_MS)
    playback = view._playback
    full = FrameRenderer(playback, view._renderer.graph, blit=False)
    naive = networkx_redraw(FrameRenderer(playback, view._renderer.graph))
    times = frame_times(playback)
    for t in times[:5]:  # warm up caches (fonts, glyphs)
        view.frame(t), naive(t), full.render(t)
    fast = [_ms(view.frame, t) for t in times]
    # the slow ones in blocks after it: they evict the CPU caches
    slow = [_ms(naive, t) for t in times[::SLOW_EVERY]]
    same_picture = [_ms(full.render, t) for t in times[::SLOW_EVERY]]
    view.close()
    ms, naive_ms = statistics.median(fast), statistics.median(slow)
    return {"ms_per_frame": round(ms, 2), "naive_ms_per_frame": round(naive_ms, 2), "frames": len(fast),
            "naive_frames": len(slow), "speedup": round(naive_ms / ms, 1), "in_flight": IN_FLIGHT,
            "full_redraw_ms_per_frame": round(statistics.median(same_picture), 2)}
