"""Searching a user's threads: the words looked up, the results, and their matches marked.

The database finds and ranks (FTS5 or PostgreSQL full text, repository.search); the marks are
put here, on text escaped first, so a message can never bring its own markup into a result.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Message, Thread
from app.threads import repository

# Runs of letters and digits: what both FTS5's unicode61 and PostgreSQL's parser index as words
# (an underscore separates, as it does for them).
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 10
RESULTS = 20
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class SearchResult:
    thread: Thread
    # The best matching message, or None when the title matched best.
    message: Message | None
    title: Markup
    snippet: Markup | None
    # How many of the thread's messages (and its title) match.
    matches: int


def search_words(text: str) -> list[str]:
    """The words of a query, lowercased, each once, at most MAX_WORDS."""
    return list(dict.fromkeys(WORD.findall(text.lower())))[:MAX_WORDS]


async def search_threads(
    session: AsyncSession, owner_id: uuid.UUID, text: str, limit: int = RESULTS
) -> list[SearchResult]:
    """The owner's threads with every word of `text` in their title or a message (each word
    may begin a longer one), best match first, then the most recent."""
    words = search_words(text)
    if not words:
        return []
    hits = await repository.search(session, owner_id, words, limit)
    threads = await repository.threads_by_id(session, owner_id, [hit.thread_id for hit in hits])
    messages = await repository.messages_by_id(session, [hit.message_id for hit in hits if hit.message_id])
    results = []
    for hit in hits:
        thread = threads.get(hit.thread_id)
        if thread is None:
            continue
        message = messages.get(hit.message_id) if hit.message_id else None
        snippet = snip(message.content, words) if message else None
        results.append(SearchResult(thread, message, mark(thread.title, words), snippet, hit.matches))
    return results


def _pattern(words: Sequence[str]) -> re.Pattern[str]:
    # Longest first, so "tea" does not stop "teapot" from being marked whole.
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def mark(text: str, words: Sequence[str]) -> Markup:
    """`text` escaped, with each word that begins with one of `words` in <mark>."""
    if not words:
        return escape(text)
    parts, last = [], 0
    for found in _pattern(words).finditer(text):
        parts += [escape(text[last : found.start()]), Markup("<mark>%s</mark>") % found.group()]
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def snip(text: str, words: Sequence[str], size: int = SNIPPET_CHARS) -> Markup:
    """About `size` characters of `text` (on one line) around its first match, marked."""
    flat = " ".join(text.split())
    found = _pattern(words).search(flat) if words else None
    start = 0 if found is None else max(0, found.start() - size // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if found is not None and 0 <= space < found.start() else start
    end = start + size
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if found is not None and space > found.end() else end
    before, after = ("…" if start else ""), ("…" if end < len(flat) else "")
    return escape(before) + mark(flat[start:end], words) + escape(after)
