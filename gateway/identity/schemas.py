"""Request and response shapes of the identity API (docs/api.md "Identity")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


class MeOut(BaseModel):
    subject_id: str
    kind: Literal["person", "enterprise", "staff"]
    name: str
    roles: list[str]
    department: str | None
    id_number: str | None = None
    username: str | None = None
    phone: str | None = None


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1, max_length=5)
    department: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S+$")


class StaffOut(BaseModel):
    subject_id: str
    kind: Literal["staff"] = "staff"
    username: str
    name: str
    roles: list[str]
    department: str | None
    created_at: datetime


class KeyRotationOut(BaseModel):
    kid: str
    previous_kid: str | None
