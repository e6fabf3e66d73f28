"""Tools agents can call: the catalog, the per-run context, and the built-in tools."""
