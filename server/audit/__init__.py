"""The audit trail: who did what to which record, each event chained to the one before.

Every stage records here and this package imports none of them (tests/test_layout.py).
"""
