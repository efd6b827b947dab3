"""Message schemas of the desk's actions (docs/sync-protocol.md, "Desk actions"): what a
reviewer, the compiler, an inspector or a unit sends to judge evidence and move cases."""

import datetime as dt
import re
import uuid
from typing import Literal

from pydantic import Field, field_validator

from .messages import Message, Stored
from .vocabulary import CASE_STATUSES, MODES, SEVERITIES

NOTE = 2000  # characters of a reviewer's or a unit's note
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReviewRequest(Stored):
    decision: Literal["accepted", "needs_info", "rejected"]
    note: str | None = Field(None, max_length=NOTE, description="Required unless accepted: "
                             "what is missing (it reaches the inspector's phone) or why the "
                             "evidence is rejected.")


class ConfirmRequest(Stored):
    severity: Literal[SEVERITIES]
    category_id: uuid.UUID | None = Field(None, description="Default: the finding's.")
    unit_id: uuid.UUID | None = Field(None, description="Default: the finding's unit, "
                                      "which is the site's unless the inspector chose.")
    leader_name: str | None = Field(None, max_length=100, description="Default: the "
                                    "unit's 包挂领导.")
    deadline: dt.date | None = Field(None, description="Default: today in the bureau's time "
                                     "zone plus the category's deadline days.")


class DismissRequest(Stored):
    note: str = Field(min_length=1, max_length=NOTE, description="Why it is no problem.")


class TransitionRequest(Stored):
    to: Literal[CASE_STATUSES]
    note: str | None = Field(None, max_length=NOTE, description="Required to send a report "
                             "back (submitted→rectifying) and to reopen.")
    recheck_id: uuid.UUID | None = Field(None, description="When verifying: the re-check, "
                                         "a check at the case's site made since the unit "
                                         "was told, whose evidence shows the fix.")


class CasesQuery(Message):
    status: Literal[CASE_STATUSES] | None = None
    unit_id: uuid.UUID | None = None
    overdue: bool | None = None
    month: str | None = Field(None, description="YYYY-MM: cases opened in that month, in "
                              "the bureau's time zone.", examples=["2026-11"])
    cursor: str | None = Field(None, max_length=200, description="From the previous page.")
    limit: int = Field(100, ge=1, le=500)

    @field_validator("month")
    @classmethod
    def _month(cls, value):
        if value is not None and not MONTH.match(value):
            raise ValueError("a month is written YYYY-MM")
        return value


class CasesPage(Message):
    cases: list[dict] = Field(description="Case records, as pulled, newest first.")
    cursor: str | None = Field(description="Pass it back for the next page.")
    more: bool


# --- Plans ---------------------------------------------------------------------------

PLAN_SITES, PLAN_PEOPLE = 200, 50  # sites and assignees one plan may name


class PlanFields(Stored):
    """What a plan says; every field optional for a change (PATCH)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    mode: Literal[MODES] | None = None
    window_start: dt.datetime | None = Field(None, description="With its offset.")
    window_end: dt.datetime | None = Field(None, description="After window_start.")
    site_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=PLAN_SITES)
    assignee_ids: list[uuid.UUID] | None = Field(
        None, max_length=PLAN_PEOPLE, description="Inspectors or supervisors.")

    @field_validator("window_start", "window_end")
    @classmethod
    def _aware(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("a time needs its offset, e.g. 2026-12-07T08:00:00+08:00")
        return value


class PlanRequest(PlanFields):
    """A new plan: every field but ``id`` and ``assignee_ids`` is required."""

    id: uuid.UUID | None = Field(None, description="Chosen by the caller, so that sending "
                                 "the same plan again makes nothing new.")
    title: str = Field(min_length=1, max_length=200)
    mode: Literal[MODES]
    window_start: dt.datetime
    window_end: dt.datetime
    site_ids: list[uuid.UUID] = Field(min_length=1, max_length=PLAN_SITES)
    assignee_ids: list[uuid.UUID] = Field(default_factory=list, max_length=PLAN_PEOPLE)
