"""Personal API tokens for integrations."""
