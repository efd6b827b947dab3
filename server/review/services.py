"""Judging evidence: accept it, send it back for more (needs_info, with a note the
inspector's phone pulls), or reject it with a reason; and the queue of what waits.
Flush, never commit."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from sync.desk import NOTE as NOTE_MAX

from ..audit.chain import record
from ..extensions import db
from ..models import Check, Evidence, Plan, Site, User, utcnow
from ..roles import REVIEWERS
from ..rules import Refused
from ..visibility import visible

DECISIONS = ("accepted", "needs_info", "rejected")
CLOCK_OFF_S = 300  # a phone clock this far off makes its capture times doubtful


def _flag_condition(flag: str):
    """The filters of the queue by what processing found. ``flags`` is a JSON list of
    objects named by plain words, so matching the quoted word in its text is exact and
    works alike on PostgreSQL and SQLite."""
    def named(word):
        return sa.cast(Evidence.flags, sa.Text).contains(f'"{word}"')

    return {"outside_geofence": lambda: Evidence.geofence == "outside",
            "outside_check_time": lambda: named("captured_outside_check"),
            "near_duplicate": lambda: named("near_duplicate"),
            "clock_off": lambda: sa.func.abs(Evidence.clock_offset_s) > CLOCK_OFF_S}[flag]()


FLAGS = ("outside_geofence", "outside_check_time", "near_duplicate", "clock_off")


def decide(user, evidence: Evidence, decision: str, note: str | None) -> bool:
    """Record the reviewer's decision; False when it was already made with that note."""
    if user.role not in REVIEWERS:
        raise Refused(403, _("Only reviewers judge evidence."))
    if decision not in DECISIONS:
        raise Refused(422, _("The decision is accepted, needs_info or rejected."))
    note = (note or "").strip() or None
    if decision != "accepted" and note is None:
        raise Refused(422, _("Say in a note what is missing or why it is rejected."))
    if note is not None and len(note) > NOTE_MAX:
        raise Refused(422, _("A note has at most %(n)s characters.", n=NOTE_MAX))
    if evidence.state in ("awaiting_upload", "processing"):
        raise Refused(409, _("The file of this evidence has not been processed yet; "
                             "judge it when it is ready."))
    if decision == "accepted" and evidence.state != "ready":
        raise Refused(409, _("Evidence whose file could not be read cannot be accepted."))
    if (evidence.review_state, evidence.review_note) == (decision, note):
        return False
    before = evidence.review_state
    evidence.review_state, evidence.review_note = decision, note
    evidence.reviewed_by, evidence.reviewed_at = user.id, utcnow()
    record("evidence_reviewed", actor=user, subject=evidence,
           detail={"from": before, "decision": decision, "note": note})
    return True


def decide_many(user, ids: list[uuid.UUID]) -> int:
    """Accept every listed evidence the reviewer may see that is ready; the count."""
    found = db.session.scalars(sa.select(Evidence).where(
        Evidence.id.in_(ids), visible(user, Evidence), Evidence.deleted_at.is_(None))).all()
    return sum(decide(user, evidence, "accepted", None) for evidence in found
               if evidence.state == "ready")


def captured_at(evidence: Evidence) -> datetime | None:
    """When it was captured: the file's own time when it has one, else the phone's. A
    camera's time without an offset is the phone's wall clock: the bureau's time."""
    text = (evidence.media or {}).get("captured_at")
    try:
        when = datetime.fromisoformat(text) if text else None
    except ValueError:
        when = None
    if when is None:
        return evidence.captured_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return when


@dataclass(frozen=True)
class QueueFilter:
    state: str = "pending"  # the review state listed; "all" lists every one
    check_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None  # who captured it
    mode: str | None = None  # open or covert
    flag: str | None = None


def queue_query(user, wanted: QueueFilter):
    """Evidence of checks awaiting (or given) a decision, oldest first: (Evidence, Check,
    Site, author's name, plan title)."""
    query = (sa.select(Evidence, Check, Site, User.name, Plan.title)
             .join(Check, Evidence.check_id == Check.id)
             .join(Site, Check.site_id == Site.id)
             .join(User, Evidence.created_by == User.id)
             .outerjoin(Plan, Check.plan_id == Plan.id)
             .where(visible(user, Evidence), Evidence.deleted_at.is_(None),
                    Check.deleted_at.is_(None)))
    if wanted.state != "all":
        query = query.where(Evidence.review_state == wanted.state)
    if wanted.state == "pending":  # awaiting a decision: its file is here and was read
        query = query.where(Evidence.state.in_(("ready", "failed")))
    for column, value in ((Check.id, wanted.check_id), (Site.id, wanted.site_id),
                          (Site.unit_id, wanted.unit_id), (Evidence.created_by, wanted.person_id),
                          (Check.mode, wanted.mode)):
        if value is not None:
            query = query.where(column == value)
    if wanted.flag is not None:
        query = query.where(_flag_condition(wanted.flag))
    return query.order_by(Evidence.created_at, Evidence.id)
