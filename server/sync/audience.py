"""Audience keys: who may pull a record. Mirrors ``server.visibility`` (a test holds them equal).

A user holds a few keys (``all``, ``role:<role>``, and ``sup:<id>`` for a supervisor or
``unit:<unit id>`` and ``unituser:<id>`` for a unit contact); a change is pulled by
everyone holding one of its keys.
"""

from ..models import Case, Category, Check, Evidence, Finding, Plan, Rectification, Site, Unit

STAFF = frozenset({"role:inspector", "role:reviewer", "role:compiler"})
NOT_UNITS = STAFF | {"role:supervisor", "role:admin"}


def user_keys(user) -> list[str]:
    keys = ["all", f"role:{user.role}"]
    if user.role == "supervisor":
        keys.append(f"sup:{user.id}")
    if user.role == "unit":
        keys += [f"unit:{user.unit_id}", f"unituser:{user.id}"]
    return keys


def _finding_units(finding: Finding | None) -> set[str]:
    if finding is not None and finding.published_at is not None:
        return {f"unit:{finding.unit_id}"}
    return set()


def _case_units(case: Case | None) -> set[str]:
    finding = case.finding if case is not None else None
    if finding is not None and finding.published_at is not None \
            and finding.unit_id == case.unit_id:
        return {f"unit:{case.unit_id}"}
    return set()


def _evidence(record: Evidence) -> set[str]:
    keys = set(STAFF) | {f"unituser:{record.created_by}"}
    # Relationships, not ids: a record made earlier in the same push has no ids yet.
    if record.check is not None:
        keys.add(f"sup:{record.check.created_by}")
    keys |= _finding_units(record.finding)
    if record.rectification is not None:
        keys |= _case_units(record.rectification.case)
    return keys


def keys_for(record) -> set[str]:
    """The audience of ``record`` as it is now."""
    match record:
        case Unit() | Category():
            return {"all"}
        case Site():
            return set(NOT_UNITS) | {f"unit:{record.unit_id}"}
        case Plan():
            return {"role:inspector", "role:compiler"} | {f"sup:{u.id}" for u in record.assignees}
        case Check():
            return set(STAFF) | {f"sup:{record.created_by}"}
        case Finding():
            return set(STAFF) | {f"sup:{record.check.created_by}"} | _finding_units(record)
        case Evidence():
            return _evidence(record)
        case Case():
            return set(STAFF) | _case_units(record)
        case Rectification():
            return set(STAFF) | _case_units(record.case)
    raise TypeError(f"no audience for {type(record).__name__}")
