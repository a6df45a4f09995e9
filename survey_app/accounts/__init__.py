"""Accounts: sign-in, access decorators, users and API tokens, with their pages and CLI."""
