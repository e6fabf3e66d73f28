"""OpenAI-compatible API: /v1/models lists agents, /v1/chat/completions runs one."""
