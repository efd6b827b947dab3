"""Message schemas of the phone-facing API (docs/sync-protocol.md), shared by server and client."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from .vocabulary import OPS, RECORD_TYPES, RESULT_STATUSES, ROLES

Role = Literal[ROLES]


class Message(BaseModel):
    """Strict by default: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class Stored(Message):
    """A message whose text the server keeps: no NUL character anywhere in it, since
    PostgreSQL refuses to store one."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        if _holds_nul(value):
            raise PydanticCustomError("nul_character", "Text may not contain NUL characters.")
        return value


class DeviceLogin(Stored):
    """Sign a phone in as a user."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_name: str = Field(min_length=1, max_length=100,
                             description="What the user calls this phone, e.g. 'Huawei P60'.")


class UserSummary(Message):
    id: uuid.UUID
    name: str
    role: Role


class DeviceToken(Message):
    """The answer to a device login. The token is shown once; only its hash is kept."""

    token: str = Field(description="Opaque bearer token for `Authorization: Bearer …`.")
    device_id: uuid.UUID
    user: UserSummary


# --- Sync of records ------------------------------------------------------------------

RecordType = Literal[RECORD_TYPES]
MAX_MUTATIONS = 500
INT64 = 2**63 - 1  # the largest number a database column of the server holds
MAX_PUSH_BYTES = 5 * 1024 * 1024


class Mutation(Message):
    """One change a phone made offline. Its ``id`` makes retries harmless."""

    id: uuid.UUID = Field(description="Chosen by the phone, unique per change; "
                          "sending it again is answered `duplicate`.")
    # Plain strings, not enumerations: a phone newer than the server may send a type or op
    # this server does not know; that mutation alone is rejected, the batch goes on.
    type: str = Field(max_length=32, examples=list(RECORD_TYPES),
                      description="The record type; one this server does not know is "
                      "`rejected` (422) and the rest of the batch is applied.")
    op: str = Field(max_length=16, examples=list(OPS),
                    description="`upsert` or `delete`; another is `rejected` (422).")
    entity_id: uuid.UUID
    base_version: int | None = Field(None, ge=1, le=INT64, description="The version the phone "
                                     "changed; null on an upsert means create.")
    data: dict = Field(default_factory=dict, description="The fields the phone sets; "
                       "fields not sent are kept. Server fields are ignored.")
    client_time: datetime | None = None


class PushRequest(Message):
    """A batch of at most 500 mutations (and 5 MiB); larger batches get `413`."""

    device_id: uuid.UUID = Field(description="The device of the bearer token.")
    mutations: list[Mutation]


class MutationError(Message):
    """Why a mutation was rejected, shaped like a problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = []


class MutationResult(Message):
    id: uuid.UUID
    status: Literal[RESULT_STATUSES]
    version: int | None = Field(None, description="The record's version after the mutation "
                                "(the server's version on conflict).")
    error: MutationError | None = None
    current: dict | None = Field(None, description="On conflict: the server's record.")


class PushResponse(Message):
    """One result per mutation, in order, and the feed's head after the push (for
    information: keep pulling from the cursor of your last pull)."""

    results: list[MutationResult]
    cursor: str


class PullQuery(Message):
    """Unknown parameters (a browser's cache-buster such as `_=`) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    cursor: str | None = Field(None, max_length=512,
                               description="From the last pull; none: from the start.")
    limit: int = Field(500, ge=1, le=1000)


class Change(Message):
    type: RecordType
    entity_id: uuid.UUID
    op: Literal[OPS]
    version: int
    data: dict | None = Field(None, description="The whole record on upsert; null on delete.")


class PullResponse(Message):
    """Changes in commit order after the cursor; pull again while `more` is true."""

    changes: list[Change]
    cursor: str
    more: bool
