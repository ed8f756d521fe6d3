"""Figures: pyplot figures for pictures a notebook shows, plain Agg figures for live frames.

:func:`draw_topology` and :func:`draw_timeline` draw on a pyplot figure, like any
matplotlib plot: end the cell with ``plt.show()`` (or assign the result) and it shows
once. Live frames are drawn on a figure pyplot never sees, so a background thread can
render them while the notebook draws its own plots.
"""
from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SIZE_PX = (700, 350)
"""The standard picture size, in pixels (at DPI)."""

DPI = 100


def agg_figure(size_px: tuple[int, int] = SIZE_PX, dpi: int = DPI) -> Figure:
    """A Figure with its own Agg canvas, unknown to pyplot (safe to draw from any thread)."""
    fig = Figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def agg_canvas(fig: Figure) -> FigureCanvasAgg:
    """The Agg canvas of a figure made by :func:`agg_figure` (its pixels are what a frame is)."""
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        raise TypeError(f"expected a figure with an Agg canvas, got {type(canvas).__name__}")
    return canvas


def root_figure(ax: Axes) -> Figure:
    """The Figure ``ax`` is drawn in (the top-level one, if ``ax`` sits in a subfigure)."""
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError("the Axes belongs to no figure")
    return fig


def figure_and_axes(ax: Axes | None, size_px: tuple[int, int] = SIZE_PX) -> tuple[Figure, Axes]:
    """``ax``'s figure and ``ax``, or a new pyplot figure of ``size_px`` filled by one Axes."""
    if ax is not None:
        return root_figure(ax), ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(size_px[0] / DPI, size_px[1] / DPI), dpi=DPI)
    return fig, fig.add_axes((0.0, 0.0, 1.0, 1.0))
