"""Request shapes of the province login (docs/api.md "Identity assurance")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login_code: str = Field(min_length=1, max_length=128)
