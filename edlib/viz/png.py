"""PNG encoding tuned for live frames: no row filter, fastest zlib level.

A frame is a flat diagram with large plain areas: unfiltered rows at zlib level 1 give
files as small as Pillow's adaptive filtering does, in half the time (measured here:
3.6 ms against 7.6 ms for 700x350 RGB), and PNG encoding is most of a frame's cost.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of an ``(height, width, 3 or 4)`` uint8 image (alpha dropped)."""
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
        raise ValueError(f"expected a (height, width, 3|4) uint8 array, got {rgba.shape} {rgba.dtype}")
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = 0  # filter type 0: none
    rows[:, 1:].reshape(height, width, 3)[...] = rgba[:, :, :3]  # one strided copy, alpha dropped
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, level))  # type: ignore[arg-type]  # numpy stubs: ndarray.__buffer__ only on 3.12+
            + _chunk(b"IEND", b""))
