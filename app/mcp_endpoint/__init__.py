"""Nova as an MCP server: its agents and threads at /mcp, for API tokens."""
