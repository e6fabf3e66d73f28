"""A short title for a conversation, asked of the model that wrote its first reply.

langchain is imported when a title is asked for, not with this module: the web side
imports the feature code that names this function.
"""

from __future__ import annotations

from typing import Any

from app.agents.errors import classify
from app.agents.provider_config import ProviderConfig

TITLE_INSTRUCTIONS = (
    "You name conversations. Reply with a title of at most 8 words for the conversation below, "
    "in its language: the title alone, without quotes, a label or final punctuation."
)
# Of each message: enough to tell the subject, and cheap to send again.
EXCERPT_CHARS = 1500


async def suggest_title(config: ProviderConfig, question: str, answer: str) -> str:
    """The model's answer as written (the caller cleans it); raises ProviderFailure."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from app.agents.llm import build_chat_model

    model = build_chat_model(config, temperature=0.2)
    conversation = f"User: {question[:EXCERPT_CHARS]}\n\nAssistant: {answer[:EXCERPT_CHARS]}"
    try:
        reply = await model.ainvoke([SystemMessage(TITLE_INSTRUCTIONS), HumanMessage(conversation)])
    except Exception as exc:
        raise classify(exc, config.base_url, config.model) from exc
    return _text_of(reply.content)


def _text_of(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
