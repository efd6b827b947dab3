"""Message schemas of the phone-facing API (../shared/api.md), shared by server and client."""

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["inspector", "supervisor", "reviewer", "compiler", "unit", "admin"]


class Message(BaseModel):
    """Strict by default: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DeviceLogin(Message):
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
