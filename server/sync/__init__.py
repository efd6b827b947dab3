"""Sync of records with phones: the change feed, push (apply mutations) and pull."""
