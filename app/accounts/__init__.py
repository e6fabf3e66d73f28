"""Accounts: login sessions, registration with invites, passwords, admin user management."""
