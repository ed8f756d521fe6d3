"""One small box of text rendered three ways: plain text, HTML and Markdown.

Checks, hints, solutions and progress all show as a *panel*: a heading, a few
paragraphs, and optionally a block of code. Paragraphs may mark code with backticks
(`like this`). Every form is a pure function of its inputs: no ids, times or
addresses, so stored notebook outputs compare byte for byte.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

_TICKS = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Panel:
    """A heading, paragraphs (with `code` in backticks) and an optional code block."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    code: str | None = None
    color: str = "#455a64"
    css: str = "edlib-panel"
    table: tuple[tuple[str, ...], ...] = field(default=())

    def text(self) -> str:
        """The plain-text form (what ``print`` and ``text/plain`` show)."""
        lines = [self.heading] + [p for p in self.paragraphs]
        if self.table:
            lines += _text_table(self.table)
        if self.code is not None:
            lines += ["    " + line if line else "" for line in self.code.splitlines()]
        return "\n".join(lines)

    def html(self) -> str:
        """The HTML form (what JupyterLab shows)."""
        parts = [f'<div class="{html.escape(self.css)}" style="border-left:4px solid {self.color};'
                 f'padding:2px 10px;margin:4px 0">',
                 f'<strong style="color:{self.color}">{_inline_html(self.heading)}</strong>']
        parts += [f"<div>{_inline_html(p)}</div>" for p in self.paragraphs]
        if self.table:
            parts.append(_html_table(self.table))
        if self.code is not None:
            parts.append(f'<pre style="margin:4px 0"><code>{html.escape(self.code)}</code></pre>')
        parts.append("</div>")
        return "\n".join(parts)

    def markdown(self) -> str:
        """The Markdown form."""
        out = [f"**{self.heading}**", ""] + [p + "\n" for p in self.paragraphs]
        if self.table:
            head, *rows = self.table
            out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(r) + " |" for r in rows]
            out.append("")
        if self.code is not None:
            out += ["```python", self.code, "```"]
        return "\n".join(out).rstrip() + "\n"


def _inline_html(text: str) -> str:
    escaped = html.escape(text)
    escaped = _TICKS.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)
    return escaped.replace("\n", "<br>")


def _text_table(rows: tuple[tuple[str, ...], ...]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _html_table(rows: tuple[tuple[str, ...], ...]) -> str:
    head, *body = rows
    th = "".join(f'<th style="text-align:left;padding:0 8px">{html.escape(c)}</th>' for c in head)
    trs = "".join("<tr>" + "".join(f'<td style="text-align:left;padding:0 8px">{_inline_html(c)}</td>'
                                   for c in r) + "</tr>" for r in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"
