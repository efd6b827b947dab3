"""Roles and the groups the rules speak of (docs/architecture.md, "Roles")."""

from sync.vocabulary import ROLES

ALL = frozenset(ROLES)
STAFF = frozenset({"inspector", "reviewer", "compiler"})  # see every check, finding and case
PLANNERS = frozenset({"inspector", "compiler"})           # see and make plans
FIELD_STAFF = frozenset({"inspector", "supervisor"})      # run checks on phones
REVIEWERS = frozenset({"reviewer", "compiler"})           # judge evidence, confirm findings

__all__ = ["ALL", "FIELD_STAFF", "PLANNERS", "REVIEWERS", "ROLES", "STAFF"]
