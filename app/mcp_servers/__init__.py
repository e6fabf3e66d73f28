"""A user's MCP servers: add them on the Tools page, test them, give their tools to agents."""
