"""The history's budget and its split (app/agents/summaries.py, history.py): what is summarized
and what is kept, the reply's reserve, one system message, calls that fit the window; and one
summarizing call against the scripted provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately

from app.agents import summaries
from app.agents.history import SUMMARY_HEADING, as_messages, fit_history, history_budget, reply_reserve
from app.agents.provider_config import ProviderConfig
from app.agents.spec import Attachment, Turn
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, is_summary_request

INSTRUCTIONS = "Be brief."


def exchange(count: int, chars: int = 600) -> list[Turn]:
    """`count` user questions of `chars` characters, each answered shortly."""
    turns: list[Turn] = []
    for n in range(count):
        turns += [Turn("user", f"question {n} " + "q" * chars), Turn("assistant", f"answer {n}")]
    return turns


def cost(turns: list[Turn]) -> int:
    return count_tokens_approximately(as_messages(turns))


def test_nothing_is_summarized_while_the_history_fits() -> None:
    assert summaries.overflow(INSTRUCTIONS, exchange(3), 4096, None) == 0
    assert summaries.overflow(INSTRUCTIONS, [], 4096, None) == 0


def test_the_replys_reserve_is_not_given_to_the_history() -> None:
    turns = exchange(8, chars=1600)[:-1]  # ends on a question
    # Within the window, not within the window less the reply's quarter.
    assert cost(turns) < 4000 and cost(turns) > history_budget(INSTRUCTIONS, 4000)
    assert reply_reserve(4000) == 1000 and reply_reserve(100_000) == 4096
    assert summaries.overflow(INSTRUCTIONS, turns, 4000, None) > 0
    assert summaries.overflow(INSTRUCTIONS, turns, 6000, None) == 0


def test_the_oldest_turns_are_summarized_and_the_newest_kept_from_a_users_turn() -> None:
    turns = exchange(10)[:-1]
    window = 2048
    cut = summaries.overflow(INSTRUCTIONS, turns, window, None)
    kept, dropped = turns[cut:], turns[:cut]
    assert dropped and kept and kept[0].role == "user" and kept[-1] == turns[-1]
    room = (
        history_budget(INSTRUCTIONS, window) - summaries.summary_tokens(INSTRUCTIONS, window)
    ) * summaries.KEEP_SHARE
    assert cost(kept) <= room
    assert cost(turns[cut - 2 :]) > room  # one exchange more would not have fitted
    # After the summary the history has room to grow: the next exchange needs none.
    summary = "s" * 4 * summaries.summary_tokens(INSTRUCTIONS, window)
    assert summaries.overflow(INSTRUCTIONS, [*kept, *exchange(1)], window, summary) == 0


def test_a_stored_summary_takes_its_room() -> None:
    turns = exchange(3)[:-1]
    assert summaries.overflow(INSTRUCTIONS, turns, 1200, None) == 0
    assert summaries.overflow(INSTRUCTIONS, turns, 1200, "x" * 2000) == 2  # the first exchange goes


def test_the_newest_message_is_kept_even_when_it_alone_is_too_long() -> None:
    turns = [*exchange(2), Turn("user", "z" * 20_000)]
    assert summaries.overflow(INSTRUCTIONS, turns, 2048, None) == 4
    assert summaries.overflow(INSTRUCTIONS, [Turn("user", "z" * 20_000)], 2048, None) == 0  # nothing to summarize


def test_the_model_gets_one_system_message_with_the_summary_then_the_turns() -> None:
    turns = exchange(1)
    sent = fit_history(INSTRUCTIONS, turns, 4096, "The user asked about **Paris**.")
    assert [type(m) for m in sent] == [SystemMessage, HumanMessage, AIMessage]
    system = str(sent[0].content)
    assert system.startswith(INSTRUCTIONS) and SUMMARY_HEADING in system and system.endswith("about **Paris**.")
    alone = fit_history("", turns, 4096, "Summary.")
    assert str(alone[0].content) == f"{SUMMARY_HEADING}\n\nSummary."
    assert fit_history("", turns, 4096) == as_messages(turns)


def test_what_still_overflows_is_trimmed_from_the_oldest() -> None:
    turns = exchange(10)[:-1]
    sent = fit_history(INSTRUCTIONS, turns, 2048)
    assert isinstance(sent[1], HumanMessage) and sent[-1].content == turns[-1].content
    assert count_tokens_approximately(sent) <= 2048 - reply_reserve(2048)
    assert len(sent) < len(turns) + 1


def test_each_summarizing_call_fits_the_window() -> None:
    turns = [*exchange(30, chars=900), Turn("user", "long " * 4000), *exchange(3, chars=900)]
    window = 2048
    ends = summaries.batches(turns, INSTRUCTIONS, window)
    assert ends[-1] == len(turns) and ends == sorted(set(ends)) and len(ends) > 3
    first = summaries._call_room(INSTRUCTIONS, window, 0)
    later = summaries._call_room(INSTRUCTIONS, window, summaries.summary_tokens(INSTRUCTIONS, window))
    assert first > later  # the first call has no summary so far to carry
    start = 0
    for end in ends:
        batch, room = turns[start:end], first if start == 0 else later
        assert batch, "no empty call"
        assert sum(min(len(summaries.transcript(t)), room) for t in batch) <= room or len(batch) == 1
        start = end
    assert [turns[60]] in [turns[a:b] for a, b in zip([0, *ends], ends, strict=False)]  # the long one alone
    assert summaries.batches([], INSTRUCTIONS, window) == []


def test_files_are_summarized_by_their_text() -> None:
    turn = Turn("user", "See the notes.", (Attachment("notes.txt", "text/plain", text="Buy milk"),))
    assert "Buy milk" in summaries.transcript(turn) and summaries.transcript(turn).startswith("User: ")
    assert summaries.transcript(Turn("assistant", "x" * 50), limit=10) == "Assistant: " + "x" * 9 + "…"


@pytest.fixture
def scripted(llm: ScriptedLLM) -> Iterator[ScriptedLLM]:
    llm.summaries.clear()
    llm.summary_requests.clear()
    yield llm
    llm.summaries.clear()
    llm.summary_requests.clear()


def config(llm: ScriptedLLM, window: int = 4096) -> ProviderConfig:
    return ProviderConfig("openai_compatible", llm.base_url, None, "scripted-small", window, None)


async def test_the_summary_so_far_is_extended_by_the_model(scripted: ScriptedLLM) -> None:
    scripted.queue_summary(ScriptedReply(text="<think>Let me see.</think>\nThe user plans a trip to **Lyon**."))
    made = await summaries.summarize(config(scripted), "The user likes trains.", exchange(2), INSTRUCTIONS)
    assert made.text == "The user plans a trip to **Lyon**."
    assert made.completion_tokens is not None
    [asked] = scripted.summary_requests
    assert is_summary_request(asked) and scripted.requests == []  # not an agent's request
    prompt = asked["messages"][1]["content"]
    assert "Summary so far:\nThe user likes trains." in prompt
    assert "User: question 0" in prompt and "Assistant: answer 1" in prompt
    assert asked["max_tokens"] == summaries.summary_tokens(INSTRUCTIONS, 4096)


async def test_a_failed_or_empty_summary_raises(scripted: ScriptedLLM) -> None:
    from app.agents.errors import ProviderFailure

    with pytest.raises(ProviderFailure):  # none queued: the scripted provider answers 503
        await summaries.summarize(config(scripted), None, exchange(1))
    scripted.queue_summary(ScriptedReply(text="<think>only thinking"))
    with pytest.raises(ValueError, match="empty"):
        await summaries.summarize(config(scripted), None, exchange(1))
