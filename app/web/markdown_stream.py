"""Markdown for a reply still being written, at a bounded cost per token.

A reply is a run of top-level blocks (paragraphs, lists, code fences, headings...). Every
block but the last is finished: it is rendered once and appended to the page. Only the
last, open block is rendered again as text arrives, so what goes over the wire for each
token is bounded by the size of one block, never by the length of the reply.

When the reply ends, the finished message (rendered whole) replaces all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from app.web.markdown import parse_blocks, render_markdown


@dataclass(frozen=True)
class Rendered:
    """What changed: finished blocks to append (may be empty) and the open block, rendered."""

    finished: Markup
    open: Markup


class StreamingMarkdown:
    def __init__(self, text: str = "") -> None:
        """Start from the text a page (or an earlier connection) already shows."""
        self._text = ""
        self._done = 0  # how much of the text is rendered as finished blocks
        self.shown = self.reset(text)

    def reset(self, text: str) -> Rendered:
        """The reply starts over from `text` (a retry rewound it): everything is rendered anew."""
        self._text, self._done = text, 0
        return self._advance()

    def feed(self, delta: str) -> Rendered:
        self._text += delta
        return self._advance()

    def _advance(self) -> Rendered:
        pending = self._text[self._done :]
        cut = _start_of_last_block(pending)
        finished = pending[:cut]
        self._done += cut
        return Rendered(_render(finished), _render(self._text[self._done :]))


def _render(text: str) -> Markup:
    return Markup(render_markdown(text)) if text.strip() else Markup("")  # noqa: S704 (sanitised by nh3)


def _start_of_last_block(text: str) -> int:
    """Where the last top-level block begins (0 while there is only one)."""
    starts = parse_blocks(text)
    if len(starts) < 2:
        return 0
    last_line = starts[-1]
    offset = 0
    for _ in range(last_line):
        offset = text.index("\n", offset) + 1
    return offset
