"""Administration: users and invite codes."""
