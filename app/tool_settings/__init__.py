"""The Tools page: per-user tool settings, tools per agent, admin-registered tools."""
