"""Pictures of a running system: the topology, the timeline, and the live view.

Everything is drawn from the system itself (``World.topology()`` and its trace), never
from a hand-written list::

    world.draw()                                # the topology, as a Figure
    world.timeline(start_ms=0, end_ms=500)      # the trace as a sequence diagram
    LiveView(world)                             # events moving through it, in JupyterLab
    LiveView.replay(world.trace, world)         # a recorded trace, played back

Modules, one idea each: ``style`` (colours and markers), ``graph`` (the topology,
completed from a trace), ``layout`` (where nodes go), ``scene`` (the static drawing),
``topology`` and ``timeline`` (the two figures), ``playback`` (a trace indexed by time),
``frames`` (fast frames by blitting), ``png`` (fast encoding), ``still`` (key frames
for saved notebooks), ``live`` (the widget).
"""
from edlib.viz.live import LiveView, live_view
from edlib.viz.timeline import draw_timeline
from edlib.viz.topology import draw_topology

__all__ = ["LiveView", "draw_timeline", "draw_topology", "live_view"]
