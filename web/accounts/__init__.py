"""Accounts: sign-in (local and SSO), sessions, users and roles, first-run setup."""
