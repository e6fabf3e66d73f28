"""Threads exported (Markdown, Nova's JSON) and imported (Nova's JSON, ChatGPT's conversations.json)."""
