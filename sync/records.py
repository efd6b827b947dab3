"""The fields a phone may push for each record type (docs/sync-protocol.md, "Records").

Every field is optional here: an upsert sends only what it sets, and the server keeps
the rest. What a create needs is checked by the server's merge rules. Fields the server
sets (``created_by``, ``state``…) are accepted and ignored.
"""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from .messages import INT64, Message, Stored
from .vocabulary import CASE_STATUSES, EVIDENCE_KINDS, MODES, READ_ONLY_TYPES, SEVERITIES

Severity = Literal[SEVERITIES]
Mode = Literal[MODES]
CaseStatus = Literal[CASE_STATUSES]
LONG_TEXT = 20_000
MAX_LISTED = 500  # evidence ids a finding or a rectification may list, all pushes together


def _storable(value: datetime) -> datetime:
    """A time whose UTC instant has a year from 1 to 9999, as every database stores it
    (0001-01-01T00:00+01:00 falls in year 0)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("time_out_of_range",
                                  "The time is outside the years 1 to 9999.") from None
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_storable)]


class Location(Message):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)


class RecordData(Stored):
    """Base of the pushable fields of one record type."""

    SERVER_FIELDS: ClassVar[frozenset] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_server_fields(cls, data):
        if isinstance(data, dict):
            ignored = cls.SERVER_FIELDS | {"id", "version"}
            return {k: v for k, v in data.items() if k not in ignored}
        return data

    def sent(self) -> dict:
        """The fields the phone actually sent, as Python values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class CheckData(RecordData):
    SERVER_FIELDS: ClassVar[frozenset] = frozenset({"created_by", "received_at"})

    plan_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    mode: Mode | None = None
    started_at: Instant | None = None
    ended_at: Instant | None = None
    notes: str | None = Field(None, max_length=LONG_TEXT,
                              description="Append-only: lines are merged, never lost.")
    location: Location | None = None


class FindingData(RecordData):
    SERVER_FIELDS: ClassVar[frozenset] = frozenset({"created_by", "state", "published_at"})

    check_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    severity: Severity | None = None
    description: str | None = Field(None, max_length=LONG_TEXT)
    unit_id: uuid.UUID | None = Field(None, description="Defaults to the site's unit.")
    evidence_ids: list[uuid.UUID] | None = Field(
        None, max_length=MAX_LISTED,
        description="Append-only: a union; at most 500 ids in all, beyond that the "
        "mutation is rejected.")


class EvidenceData(RecordData):
    SERVER_FIELDS: ClassVar[frozenset] = frozenset({
        "state", "failure", "review_state", "review_note", "media", "geofence", "distance_m",
        "derivatives", "created_by"})

    check_id: uuid.UUID | None = None
    finding_id: uuid.UUID | None = None
    kind: Literal[EVIDENCE_KINDS] | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(None, ge=0, le=INT64)
    filename: str | None = Field(None, max_length=255)
    captured_at: Instant | None = None
    location: Location | None = None


class CaseData(RecordData):
    SERVER_FIELDS: ClassVar[frozenset] = frozenset({"overdue"})

    finding_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    leader_name: str | None = Field(None, max_length=100)
    deadline: date | None = None
    status: CaseStatus | None = None


class RectificationData(RecordData):
    SERVER_FIELDS: ClassVar[frozenset] = frozenset({"created_by"})

    case_id: uuid.UUID | None = None
    report: str | None = Field(None, max_length=LONG_TEXT)
    evidence_ids: list[uuid.UUID] | None = Field(
        None, max_length=MAX_LISTED,
        description="Append-only: a union; at most 500 ids in all.")
    submitted_at: Instant | None = None


PUSHABLE = {"check": CheckData, "finding": FindingData, "evidence": EvidenceData,
            "case": CaseData, "rectification": RectificationData}
READ_ONLY = frozenset(READ_ONLY_TYPES)

# Fields that only ever grow (lines of notes, lists of evidence ids, or a value set once):
# a change of these alone never conflicts, on the server or in the client.
APPEND_ONLY = {"check": frozenset({"notes"}), "finding": frozenset({"evidence_ids"}),
               "evidence": frozenset({"finding_id", "filename", "captured_at", "location"}),
               "rectification": frozenset({"evidence_ids"}), "case": frozenset()}
