"""Circuit breakers per provider: runs fail fast while a provider is unwell (breaker.py)."""
