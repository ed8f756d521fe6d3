"""The live view: events moving through the system, in a JupyterLab widget.

``LiveView(world)`` shows the world's topology with each trace record as a marker
travelling along its edge, a time slider to scrub, Play/Pause, Step and speed, and
beside the picture the latest trace rows and each service's state. It follows the
world: records added later (another cell runs requests) extend the timeline.
``LiveView.replay(trace)`` plays a recorded trace instead.

Frames come from :class:`~edlib.viz.frames.FrameRenderer` (blitting, a few ms each);
Play runs a background thread that renders frames and sets the image widget's value.
Displayed, the view also carries a PNG still (key frames) for readers without a kernel.
"""
from __future__ import annotations

import contextlib
import html
import math
import threading
import time
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
import networkx as nx

from edlib.core.trace import Trace, TraceRecord
from edlib.viz.figure import SIZE_PX
from edlib.viz.frames import FrameRenderer
from edlib.viz.graph import check_records, complete_with, topology_of
from edlib.viz.playback import Playback
from edlib.viz.still import frame_grid

PLAY_SECONDS = 15.0
"""A replay's default speed plays the whole trace in about this many real seconds."""

TRAVEL_SECONDS = 0.4
"""By default a marker takes this many real seconds (at the starting speed) to cross an edge."""

FOLLOW_SPEED = 250.0
"""Default speed (virtual ms per real second) for a world with nothing in its trace yet."""


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


class LiveView:
    """A live, scrubbable picture of ``source``: a World (followed as it runs) or a recorded trace.

    ``topology``: the system a recorded trace came from (a World or a networkx DiGraph);
    without it the topology is read off the trace. ``speed``: virtual ms per real
    second (default: the trace plays in about 15 s); ``travel_ms``: virtual ms a
    marker takes along an edge; ``fps``: frames per second while playing;
    ``log_rows``: trace rows shown beside the picture. A followed world's new records are
    taken in at the next frame, and after each notebook cell.
    """

    def __init__(self, source: Any, topology: Any = None, *, speed: float | None = None,
                 travel_ms: float | None = None, fps: float = 20.0, log_rows: int = 8) -> None:
        self._world = source if callable(getattr(source, "topology", None)) else None
        if self._world is not None:
            trace = self._world.trace
            if not trace.enabled:
                raise ValueError("this world's tracing is off (World(trace=False)): there is nothing to show")
            records = trace.records
            topology = self._world if topology is None else topology
        elif isinstance(source, (Trace, list, tuple)):
            records = check_records(source)
            if not records:
                raise ValueError("the trace is empty: run the world (send a request) before replaying its trace")
        else:
            raise TypeError(f"show a World or a Trace, got {type(source).__name__}")
        self._base = None if topology is None else topology_of(topology)
        self._strict = self._world is None and topology is not None
        self._fps = _positive("fps", fps)
        if not isinstance(log_rows, int) or isinstance(log_rows, bool) or log_rows < 1:
            raise ValueError(f"log_rows must be a positive int, got {log_rows!r}")
        self._log_rows = log_rows
        self._records: list[TraceRecord] = list(records)
        span = (max(r.time for r in records) - min(r.time for r in records)) if records else 0.0
        self._speed = (_positive("speed", speed) if speed is not None
                       else max(span / PLAY_SECONDS, 10.0) if span else FOLLOW_SPEED)
        self._travel = (_positive("travel_ms", travel_ms) if travel_ms is not None
                        else self._speed * TRAVEL_SECONDS)
        self._lock = threading.RLock()
        self._player: threading.Thread | None = None
        self._stop = threading.Event()
        self._paused_by_user = False
        self._setter: int | None = None
        self._closed = False
        self._index()
        self._t = self._playback.start
        self._build_widgets()
        self.show(self._t)
        if self._world is not None:
            self._hook("register")

    @classmethod
    def replay(cls, trace: Trace | Iterable[TraceRecord], topology: Any = None, **options: Any) -> "LiveView":
        """A view of a recorded ``trace`` (of the system ``topology``, if given); see :class:`LiveView`."""
        return cls(trace if isinstance(trace, Trace) else list(trace), topology, **options)

    # -- data ----------------------------------------------------------------------
    def _index(self) -> None:
        """(Re)build the graph, the playback index and the frame renderer from ``self._records``."""
        graph = complete_with(self._base.copy() if self._base is not None else nx.DiGraph(), self._records,
                              strict=self._strict)
        services = [n for n, role in graph.nodes(data="role") if role == "service"]
        consumers = ({name: set(svc.handlers) for name, svc in self._world.services.items()}
                     if self._world is not None else {})
        self._playback = Playback(self._records, services, self._travel, consumers)
        self._renderer = FrameRenderer(self._playback, graph)

    def _fallen_behind(self) -> bool:
        return self._world is not None and not self._closed and len(self._world.trace) != len(self._records)

    def _catch_up(self) -> bool:
        """Take in the records the followed world added; True if the view was at the end before them."""
        world = self._world
        if world is None or not self._fallen_behind():
            return False
        self._records = world.trace.records
        was_end = self._playback.end
        self._index()
        self.time_slider.max = max(self._playback.end, self._playback.start + 1.0)
        return self._t >= was_end - 1e-9

    # -- widgets -------------------------------------------------------------------
    def _build_widgets(self) -> None:
        w, h = SIZE_PX
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{w}px", height=f"{h}px"))
        self.state_panel = widgets.HTML()
        self.log_panel = widgets.HTML(layout=widgets.Layout(width="380px", overflow="hidden"))
        self.play_button = widgets.Button(description="Play", icon="play", layout=widgets.Layout(width="90px"))
        self.step_button = widgets.Button(description="Step", icon="step-forward",
                                          layout=widgets.Layout(width="90px"))
        exponent = math.log10(self._speed)
        self.speed_slider = widgets.FloatLogSlider(value=self._speed, base=10, min=math.floor(exponent) - 2,
                                                   max=math.ceil(exponent) + 2, step=0.05,
                                                   description="ms per s", readout_format=".3g")
        self.clock = widgets.HTML()
        pb = self._playback
        self.time_slider = widgets.FloatSlider(value=pb.start, min=pb.start, max=max(pb.end, pb.start + 1.0),
                                               step=0.1, description="time", readout=False,
                                               continuous_update=True, layout=widgets.Layout(width=f"{w}px"))
        for widget, name in ((self.clock, "time"), (self.log_panel, "log"), (self.state_panel, "state")):
            widget.add_class(f"edlib-live-{name}")
        self.play_button.on_click(lambda _: self.pause(by_user=True) if self.playing else self.play())
        self.step_button.on_click(lambda _: self.step())
        self.speed_slider.observe(self._speed_changed, "value")
        self.time_slider.observe(self._time_changed, "value")
        controls = widgets.HBox([self.play_button, self.step_button, self.speed_slider, self.clock])
        picture = widgets.VBox([self.image, controls, self.time_slider])
        side = widgets.VBox([self.state_panel, self.log_panel], layout=widgets.Layout(margin="0 0 0 10px"))
        # _view_count=0: the frontend counts the views it shows (see _after_cell)
        self.widget = widgets.HBox([picture, side], layout=widgets.Layout(flex_flow="row wrap"), _view_count=0)
        self.widget.add_class("edlib-live-view")

    def _speed_changed(self, change: dict) -> None:
        self._speed = float(change["new"])

    def _time_changed(self, change: dict) -> None:
        if self._setter != threading.get_ident():
            self.show(change["new"])

    def _panels(self, t: float) -> None:
        pb = self._playback
        rows, seen = pb.log_at(t, self._log_rows)
        lines = [f"<b>event log</b> · {seen} of {len(pb.records)} records"]
        for r in rows:
            text = html.escape(f"{r.time:>8.1f} {r.kind:<11} {r.source}→{r.target} {r.label} {r.ref}".rstrip())
            lines.append(f'<span style="color:#c62828">{text}</span>' if not r.ok else text)
        self.log_panel.value = _pre(lines)
        lines = [f"<b>{'service':<12}{'state':<7}{'backlog':>8}{'rows':>6}</b>"]
        for st in pb.services_at(t):
            state = "up   " if st.up else '<span style="color:#c62828">DOWN </span>'
            lines.append(f"{html.escape(st.service):<12}{state}  {st.backlog:>8}{st.rows:>6}")
        dead = pb.dead_letters_at(t)
        if dead:
            lines.append(f'<span style="color:#c62828">dead letters: {dead}</span>')
        self.state_panel.value = _pre(lines)

    # -- control -------------------------------------------------------------------
    @property
    def time(self) -> float:
        """The virtual time shown, in ms."""
        return self._t

    @property
    def speed(self) -> float:
        """Virtual ms played per real second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._speed = speed = _positive("speed", value)
        exponent = math.log10(speed)
        slider = self.speed_slider
        slider.min, slider.max = min(slider.min, math.floor(exponent)), max(slider.max, math.ceil(exponent))
        slider.value = speed

    @property
    def playing(self) -> bool:
        """Is Play running?"""
        return self._player is not None and self._player.is_alive()

    def show(self, t: float) -> None:
        """Show the system at virtual time ``t`` (ms), clamped to the trace."""
        with self._lock:
            self._catch_up()
            pb = self._playback
            self._t = t = min(max(float(t), pb.start), pb.end)
            png = self._renderer.render(t)
            self._setter = threading.get_ident()
            try:
                self.time_slider.value = t
            finally:
                self._setter = None
            self.image.value = png
            self.clock.value = f"<code>t = {t:.1f} ms</code>"
            self._panels(t)

    def step(self) -> None:
        """Pause, then move to when the next record's marker is halfway along its edge."""
        self.pause(by_user=True)
        with self._lock:
            self._catch_up()
            self.show(self._playback.next_stop(self._t))

    def play(self) -> None:
        """Play from the current time (from the start if at the end) in a background thread."""
        with self._lock:
            if self.playing:
                return
            self._catch_up()
            if self._t >= self._playback.end:
                self.show(self._playback.start)
            self._paused_by_user = False
            self._stop = threading.Event()
            self._player = threading.Thread(target=self._run, args=(self._stop,), name="edlib-live-view",
                                            daemon=True)
            self.play_button.description, self.play_button.icon = "Pause", "pause"
            self._player.start()

    def pause(self, by_user: bool = False) -> None:
        """Stop playing (the picture stays)."""
        self._paused_by_user = self._paused_by_user or by_user
        self._stop.set()
        player = self._player
        if player is not None and player is not threading.current_thread():
            player.join(timeout=2.0)
        self.play_button.description, self.play_button.icon = "Play", "play"

    def _run(self, stop: threading.Event) -> None:
        period = 1.0 / self._fps
        last = time.perf_counter()
        while not stop.is_set():
            began = time.perf_counter()
            t = self._t + self._speed * (began - last)
            last = began
            self.show(t)
            if self._t >= self._playback.end:
                break
            stop.wait(max(0.0, period - (time.perf_counter() - began)))
        if not stop.is_set():
            self.play_button.description, self.play_button.icon = "Play", "play"

    def _after_cell(self, *_: Any) -> None:
        """After each notebook cell: take in the world's new records; keep following if we were at the end."""
        if not self._fallen_behind() or self.playing:
            return
        try:
            with self._lock:
                at_end = self._catch_up()
                self.show(self._t)
        except Exception as exc:  # never break every later cell: stop following and say why
            self._hook("unregister")
            self.log_panel.value = _pre([f"stopped following the world: {html.escape(repr(exc))}"])
            return
        if at_end and not self._paused_by_user and (self.widget._view_count or 0) > 0:
            self.play()

    def _hook(self, action: str) -> None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover
            return
        ip = get_ipython()
        if ip is not None:
            with contextlib.suppress(ValueError):  # unregistering a callback that is not registered
                getattr(ip.events, action)("post_execute", self._after_cell)

    def close(self) -> None:
        """Stop playing, stop following the world, close the widgets."""
        self.pause(by_user=True)
        self._closed = True
        self._hook("unregister")
        _close(self.widget)

    # -- pictures ------------------------------------------------------------------
    def frame(self, t: float | None = None) -> bytes:
        """PNG bytes of the frame at ``t`` (default: the time shown)."""
        with self._lock:
            self._catch_up()
            return self._renderer.render(self._t if t is None else float(t))

    def key_times(self, n: int = 4) -> list[float]:
        """The ``n`` moments a still shows (first flow, biggest backlog, recovery, end)."""
        with self._lock:
            self._catch_up()
            return self._playback.key_times(n)

    def still(self, times: Iterable[float] | None = None, columns: int = 2):
        """Key frames side by side as an inline PNG (an ``IPython.display.Image``) for readers without a kernel."""
        from IPython.display import Image

        with self._lock:
            self._catch_up()
            chosen = list(self._playback.key_times() if times is None else times)
            png = frame_grid(lambda t: self._renderer.draw(t, annotate=True), chosen, columns)
        return Image(data=png, format="png")

    def __repr__(self) -> str:
        with self._lock:
            self._catch_up()
        pb = self._playback
        return (f"LiveView({len(pb.services)} services, {len(pb.records)} trace records, "
                f"{pb.start:g}-{pb.end:g} ms)")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        if self._playback.records:
            bundle["image/png"] = self.still().data
        return bundle


def live_view(source: Any, topology: Any = None, **options: Any) -> LiveView:
    """A :class:`LiveView` of ``source`` (a World, followed as it runs, or a recorded trace)."""
    return LiveView(source, topology, **options)


def _close(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close(child)
    widget.close()


def _pre(lines: list[str]) -> str:
    return ('<pre style="font-size:11px; line-height:1.35; margin:0 0 6px 0">' + "\n".join(lines) + "</pre>")
