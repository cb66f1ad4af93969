"""API shapes of addresses, region look-ups and the coverage report."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from services.delivery.regions.divisions import RegionCodeError, parse_region


def _checked_region(code: str) -> str:
    try:
        parse_region(code)
    except RegionCodeError as exc:
        # A custom error becomes a 422 naming the field, with the part that is wrong as its code.
        raise PydanticCustomError(exc.code, str(exc), dict(exc.params)) from exc
    return code


RegionCode = Annotated[
    str,
    Field(min_length=12, max_length=12, description="12-digit administrative division code, down to the village"),
    AfterValidator(_checked_region),
]


class AddressIn(BaseModel):
    """A delivery address sent by a client: the region code is checked (422 when wrong)."""

    region_code: RegionCode
    detail: str = Field(min_length=1, max_length=500)
    recipient: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40)


class RegionOut(BaseModel):
    """What the data knows of a valid code."""

    code: str
    valid: bool = True
    province_code: str
    province: str
    city_code: str
    city: str | None
    county_code: str
    county: str | None
    township_code: str
    township: str | None
    zone: str


class CoverageRow(BaseModel):
    """Shipments to one township."""

    county_code: str
    county: str | None
    township_code: str
    township: str | None
    shipments: int
    delivered: int
    failed: int
    in_progress: int


class CoverageOut(BaseModel):
    """Shipments per county and township."""

    direction: str
    counties: int
    townships: int
    shipments: int
    items: list[CoverageRow]


class DivisionOut(BaseModel):
    """One division the data lists: its code (2, 4, 6 or 9 digits), name and the names above it."""

    code: str
    name: str
    level: str
    path: list[str]


class DivisionList(BaseModel):
    """The divisions under a parent (or the provinces), or those whose name matches a search."""

    parent: str | None
    items: list[DivisionOut]
