"""Threads: conversations with agents, and their messages."""
