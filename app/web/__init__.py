"""Shared HTTP plumbing: templates, htmx helpers, errors, middleware. Imports no feature."""
