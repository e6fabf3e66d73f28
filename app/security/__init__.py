"""Keys, secret encryption, password hashing and random tokens."""
