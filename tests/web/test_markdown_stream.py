"""Markdown while a reply streams: finished blocks once, the open block again, bounded bytes."""

from __future__ import annotations

from app.web.markdown import render_markdown
from app.web.markdown_stream import StreamingMarkdown

REPLY = (
    "# Plan\n\nFirst some **bold** text\nover two lines.\n\n"
    "```python\ndef f():\n\n    return 1\n```\n\n- one\n- two\n\n> quoted\n\nThe *end*."
)


def tokens(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream(text: str, start: str = "") -> tuple[str, str, int]:
    """Everything appended, the last open block, and the bytes sent for it all."""
    markdown = StreamingMarkdown(start)
    appended, sent, shown = [str(markdown.shown.finished)], 0, markdown.shown
    for token in tokens(text):
        shown = markdown.feed(token)
        appended.append(str(shown.finished))
        sent += len(shown.finished) + len(shown.open)
    return "".join(appended), str(shown.open), sent


def test_the_blocks_shown_add_up_to_the_whole_reply_rendered() -> None:
    appended, open_block, _ = stream(REPLY)
    assert (appended + open_block).replace("\n", "") == render_markdown(REPLY).replace("\n", "")
    assert "<strong>bold</strong>" in appended and "<em>end</em>" in open_block
    assert "```" not in appended + open_block  # never a raw fence once rendered


def test_an_open_code_fence_is_shown_as_code_while_it_is_written() -> None:
    markdown = StreamingMarkdown("Intro.\n\n")
    shown = markdown.feed("```python\nprint(1)\n")
    assert "<pre><code" in shown.open and "```" not in shown.open


def test_a_resumed_stream_starts_where_the_page_left_off() -> None:
    head, rest = REPLY[:60], REPLY[60:]
    page = StreamingMarkdown(head).shown
    appended, open_block, _ = stream(rest, start=head)
    whole = str(page.finished) + appended.removeprefix(str(page.finished)) + open_block
    assert whole.replace("\n", "") == render_markdown(REPLY).replace("\n", "")


def test_bytes_per_token_do_not_grow_with_the_length_of_the_reply() -> None:
    paragraph = " ".join(f"word{i}" for i in range(30)) + "\n\n"
    _, _, short = stream(paragraph * 10)
    _, _, long = stream(paragraph * 100)
    per_token_short = short / len(tokens(paragraph * 10))
    per_token_long = long / len(tokens(paragraph * 100))
    assert per_token_long < per_token_short * 1.1
    assert per_token_long < 200  # one paragraph's worth at most, never the reply so far


def test_a_restart_renders_everything_anew() -> None:
    markdown = StreamingMarkdown("Old **text**.\n\nMore old.\n\nEven more")
    shown = markdown.reset("New start.\n\nSecond")
    assert "New start." in shown.finished and "Old" not in shown.finished and "Second" in shown.open
