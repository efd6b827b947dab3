"""Checks and the findings noted in them: the rules both the sync push and the desk apply."""
