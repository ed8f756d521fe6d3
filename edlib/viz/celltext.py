"""Labels that change every frame ("12 waiting", "t = 1234.5 ms"), drawn one character per cell.

Each character of a :class:`CellText` sits in a fixed cell of a monospace line, so a
cell's look depends only on its position and its character: the live view stamps
each (cell, character) once and pastes it from then on, instead of drawing text,
the slowest thing in a frame. A full redraw draws the same per-cell artists, so
both give the same pixels.
"""
from __future__ import annotations

from collections.abc import Hashable

from matplotlib.axes import Axes
from matplotlib.text import Text
from matplotlib.transforms import Bbox, IdentityTransform

FAMILY = "DejaVu Sans Mono"
SIZE_PT = 7.2
CELL_PX = 6
"""Width of one character cell in pixels: DejaVu Sans Mono's advance at SIZE_PT and 100 dpi."""

LINE_PX = 12
"""Height of a line in pixels (ascent + descent at SIZE_PT and 100 dpi)."""


class CellText:
    """A one-line label of at most ``width`` characters anchored at pixel ``(x, y)`` of ``ax``'s canvas.

    ``ha``: "left" or "center"; ``va``: "top", "bottom" or "center".
    """

    def __init__(self, ax: Axes, name: Hashable, x: float, y: float, width: int, ha: str = "center",
                 va: str = "center", color: str = "black", bold: bool = False, animated: bool = True,
                 zorder: float = 5.0) -> None:
        self.name, self.x, self.ha = name, x, ha
        top = {"top": y, "bottom": y + LINE_PX, "center": y + LINE_PX / 2}[va]
        self.y0, self.y1 = round(top) - LINE_PX - 1, round(top) + 1  # the line's pixel rows, with a row spare
        self.cells = [Text(0, round(y), "", transform=IdentityTransform(), family=FAMILY, fontsize=SIZE_PT,
                           fontweight="bold" if bold else "normal", color=color, ha="left", va=va,
                           animated=animated, zorder=zorder) for _ in range(width)]
        for cell in self.cells:
            ax.add_artist(cell)
        self.text = ""

    def set(self, text: str, color: str | None = None) -> None:
        """Show ``text`` (cut to the line's width)."""
        text = text[:len(self.cells)]
        start = round(self.x - (len(text) * CELL_PX / 2 if self.ha == "center" else 0))
        self.text = text
        for i, cell in enumerate(self.cells):
            ch = text[i] if i < len(text) else " "
            cell.set_x(start + i * CELL_PX)
            cell.set_text(ch)
            cell.set_visible(ch != " ")
            if color is not None:
                cell.set_color(color)

    def hide(self) -> None:
        """Show nothing."""
        self.set("")

    def items(self) -> list[tuple[Hashable, list[Text], Bbox]]:
        """The visible cells: each one's key (its look), artist and pixel extent.

        For :class:`~edlib.viz.stamps.Stamps`.
        """
        out: list[tuple[Hashable, list[Text], Bbox]] = []
        for cell in self.cells:
            if cell.get_visible():
                x = cell.get_position()[0]
                key = (self.name, x, cell.get_text(), cell.get_color(), cell.get_fontweight())
                out.append((key, [cell], Bbox.from_extents(x, self.y0, x + CELL_PX, self.y1)))
        return out
