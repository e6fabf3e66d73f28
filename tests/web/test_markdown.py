from __future__ import annotations

from html.parser import HTMLParser

import pytest

from app.web.markdown import render_markdown


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<div hx-get="/logout" hx-trigger="load">x</div>',
        '<div data-hx-post="/threads">x</div>',
        '<svg onload="alert(1)"></svg>',
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
    ],
)
def test_hostile_markup_never_survives(hostile: str) -> None:
    for html in (render_markdown(hostile), render_markdown(f"# Title\n\n- item {hostile}")):
        elements = Elements.of(html)
        assert {tag for tag, _ in elements} <= {"p", "a", "h1", "ul", "li", "div"}, html
        for _tag, attrs in elements:
            for name, value in attrs:
                assert not name.startswith(("on", "hx-", "data-")), html
                assert "javascript:" not in (value or "").lower(), html


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    @classmethod
    def of(cls, html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
        parser = cls()
        parser.feed(html)
        return parser.found


def test_markdown_renders_and_highlights_code() -> None:
    html = render_markdown(
        "# Title\n\n**bold** and `code`\n\n```python\ndef f():\n    return 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert '<span class="hl-k">def</span>' in html
    assert "<table>" in html


def test_links_are_kept_but_made_safe() -> None:
    html = render_markdown("[docs](https://example.com/docs)")
    assert 'href="https://example.com/docs"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
