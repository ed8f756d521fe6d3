"""Stills: a few key frames of a replay side by side, for readers without a kernel.

A saved notebook keeps the PNG, so GitHub and nbviewer show what the live view showed:
the first flow, the biggest backlog, the recovery, the end (see
:meth:`~edlib.viz.playback.Playback.key_times`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from edlib.viz.png import encode_png

GAP_PX = 6


def frame_grid(draw: Callable[[float], np.ndarray], times: Sequence[float], columns: int = 2) -> bytes:
    """PNG of the frames ``draw(t)`` for each of ``times``, ``columns`` to a row, on a light grid."""
    if not times:
        raise ValueError("a still needs at least one time")
    frames = [np.array(draw(t)[:, :, :3]) for t in times]
    h, w = frames[0].shape[:2]
    columns = max(1, min(columns, len(frames)))
    rows = -(-len(frames) // columns)
    sheet = np.full((rows * h + (rows - 1) * GAP_PX, columns * w + (columns - 1) * GAP_PX, 3), 200, np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        sheet[r * (h + GAP_PX):r * (h + GAP_PX) + h, c * (w + GAP_PX):c * (w + GAP_PX) + w] = frame
    return encode_png(sheet, level=9)
