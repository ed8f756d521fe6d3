"""``draw_topology``: the system as it exists now, drawn from ``World.topology()``."""
from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from edlib.viz.figure import figure_and_axes
from edlib.viz.graph import topology_of
from edlib.viz.scene import Scene


def draw_topology(world: Any, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Draw the topology of ``world`` (a World or a networkx DiGraph) and return the Figure.

    Client on the left, then the gateway, the bus, the services stacked with each one's
    database beside it. Sync calls are solid lines, events dashed, writes thin. The same
    system always gives the same picture; add a service and draw again to see it. The
    figure is a pyplot figure: in a notebook, end the cell with ``plt.show()``.
    """
    graph = topology_of(world)
    own = ax is None
    fig, ax = figure_and_axes(ax)
    if own and title:
        ax.set_position((0.0, 0.0, 1.0, 0.92))
    Scene(graph, ax, title=title)
    return fig
