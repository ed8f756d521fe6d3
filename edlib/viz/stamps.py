"""Stamps: the pixels of a few artists, rendered once and pasted into every later frame.

Drawing text is the slowest part of a frame (about 1-2 ms per label with Agg), yet a
badge such as "3 waiting" looks the same every time it says the same thing. A
:class:`Stamps` renders each distinct look once over the static background, keeps the
pixels of its bounding box, and pastes them (a numpy slice copy) from then on.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

MARGIN_PX = 2
"""Pixels kept around an artist's extent (antialiasing and line width)."""

LIMIT = 8192
"""Looks kept before the cache starts over."""


class Stamps:
    """Cached pixel patches of artists drawn over ``background`` on ``canvas``."""

    def __init__(self, canvas: FigureCanvasAgg, background: object) -> None:
        self.canvas, self.background = canvas, background
        self._cache: dict[Hashable, tuple[slice, slice, np.ndarray]] = {}

    def prepare(self, key: Hashable, artists: Sequence[Artist], extent: Bbox | None = None) -> None:
        """Render ``artists`` for ``key`` unless already done (this overwrites the canvas: call before a frame).

        ``extent``: the pixels to keep (display coordinates), when the artists' own
        extent plus a margin would overlap a neighbour's stamp (as cells of a label do).
        """
        if key in self._cache:
            return
        if len(self._cache) >= LIMIT:
            self._cache.clear()
        canvas = self.canvas
        canvas.restore_region(self.background)
        renderer = canvas.get_renderer()
        for artist in artists:
            artist.axes.draw_artist(artist) if artist.axes is not None else artist.draw(renderer)
        margin = 0 if extent is not None else MARGIN_PX
        box = extent if extent is not None else Bbox.union([a.get_window_extent(renderer) for a in artists])
        pixels = np.asarray(canvas.buffer_rgba())
        height, width = pixels.shape[:2]
        x0, x1 = max(0, int(box.x0) - margin), min(width, int(np.ceil(box.x1)) + margin)
        y0, y1 = max(0, height - int(np.ceil(box.y1)) - margin), min(height, height - int(box.y0) + margin)
        rows, cols = slice(y0, y1), slice(x0, x1)
        self._cache[key] = (rows, cols, pixels[rows, cols].copy())

    def paste(self, key: Hashable) -> None:
        """Copy ``key``'s pixels into the canvas (after :meth:`prepare`)."""
        rows, cols, patch = self._cache[key]
        np.asarray(self.canvas.buffer_rgba())[rows, cols] = patch
