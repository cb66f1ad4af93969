"""Hall request and response shapes (docs/api.md "Halls")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from owkernel.halls import HallCode

HallLevel = Literal["city", "county"]


class HallOut(BaseModel):
    """A hall."""

    code: str
    name: str
    level: HallLevel
    region_code: str


class HallIn(BaseModel):
    """``POST /api/v1/halls``: an administrator registers a county's hall."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: HallCode
    name: str = Field(min_length=1, max_length=200)
    level: HallLevel
    region_code: str = Field(description="12-digit administrative division code of the city or county it serves")
