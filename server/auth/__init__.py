"""Signing in: passwords, device tokens for phones, sessions for pages, and throttling."""
