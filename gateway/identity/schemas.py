"""Request and response shapes of the identity API (docs/api.md "Identity")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from owkernel.halls import CITY_HALL, HallCode

Role = Literal["clerk", "approver", "supervisor", "finance", "admin"]


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=128)
    phone: str = Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9 \-]{3,18}[0-9]$")


class RegisterOut(BaseModel):
    subject_id: str
    kind: Literal["person", "enterprise"]


class LoginIn(BaseModel):
    account: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_expires_in: int


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(default=None, min_length=1, max_length=200)


class EnterpriseRef(BaseModel):
    id_number: str
    name: str


class ActorOut(BaseModel):
    subject_id: str
    id_number: str | None
    name: str | None


class MeOut(BaseModel):
    subject_id: str
    kind: Literal["person", "enterprise", "staff"]
    name: str
    roles: list[str]
    department: str | None
    id_number: str | None = None
    username: str | None = None
    phone: str | None = None
    # For staff: the hall they work at (intake's registry of halls); None for others.
    hall: str | None = None
    # None for staff (not concerned).
    assurance: Literal["self_declared", "verified"] | None = None
    verified_by: Literal["province", "window"] | None = None
    # The verified enterprises this person may act for (POST /api/v1/auth/act-as).
    acts_for: list[EnterpriseRef] = Field(default_factory=list)
    # With an act-as token: the agent acting for the enterprise this token's subject is.
    actor: ActorOut | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=8, max_length=128)


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)


class VerificationOut(BaseModel):
    activation_code: str
    expires_at: datetime


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=1, max_length=32)
    activation_code: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=8, max_length=128)


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=1, max_length=32)


class AgentOut(BaseModel):
    subject_id: str
    id_number: str
    name: str
    named_at: datetime


class ActAsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=1, max_length=32)


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1, max_length=5)
    department: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S+$")
    # The hall's code; the gateway cannot read intake's registry of halls, so any code of the
    # shape is taken (the admin creates the hall at POST /api/v1/halls first).
    hall: HallCode = CITY_HALL


class StaffOut(BaseModel):
    subject_id: str
    kind: Literal["staff"] = "staff"
    username: str
    name: str
    roles: list[str]
    department: str | None
    hall: str
    created_at: datetime


class KeyRotationOut(BaseModel):
    kid: str
    previous_kid: str | None
