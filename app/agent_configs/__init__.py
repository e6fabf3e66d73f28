"""Agent definitions people create and pick in the composer (the runtime is app.agents)."""
