"""The JSON API for integrations (Bearer API tokens, problem+json errors)."""
