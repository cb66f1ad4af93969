"""Region look-up (is this code right?) and the coverage report per county and township."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from owkernel.app import SessionDep
from owkernel.auth import STAFF_ROLES, Principal, require_roles
from owkernel.errors import Unprocessable
from services.delivery.regions import repository
from services.delivery.regions.divisions import (
    HOME_CITY_CODE,
    RegionCodeError,
    county_name,
    parse_region,
    township_name,
    zone_of,
)
from services.delivery.regions.schemas import CoverageOut, CoverageRow, RegionOut

router = APIRouter(tags=["regions"])
Staff = Annotated[Principal, Depends(require_roles(*sorted(STAFF_ROLES)))]


@router.get("/api/v1/delivery/regions/{code}", response_model=RegionOut, summary="Check a 12-digit division code")
async def check_region(code: str) -> RegionOut:
    """The names the data knows for a valid code; 422 saying which part is wrong otherwise."""
    try:
        region = parse_region(code)
    except RegionCodeError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "path.code", "message": str(exc)}]) from exc
    return RegionOut(
        code=region.code,
        province_code=region.province_code,
        province=region.province_name,
        city_code=region.city_code,
        city=region.city_name,
        county_code=region.county_code,
        county=region.county_name,
        township_code=region.township_code,
        township=region.township_name,
        zone=zone_of(region.code, home_city_code=HOME_CITY_CODE),
    )


@router.get("/api/v1/delivery/coverage", response_model=CoverageOut, summary="Shipments per county and township")
async def coverage(
    session: SessionDep,
    _: Staff,
    direction: Annotated[str, Query(pattern="^(outbound|inbound)$")] = "outbound",
    county: Annotated[str | None, Query(pattern=r"^\d{2,6}$", description="code prefix, e.g. 3706 or 370602")] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> CoverageOut:
    """How far free mailing reaches: every township shipped to, with delivered and failed counts."""
    for value in (since, until):
        if value is not None and value.tzinfo is None:
            raise Unprocessable("from and to need a UTC offset.")
    rows = await repository.coverage(
        session,
        direction=direction,
        county_prefix=county,
        since=since,
        until=until,
    )
    items = [
        CoverageRow(
            county_code=county_code,
            county=county_name(county_code),
            township_code=township_code,
            township=township_name(township_code),
            shipments=int(total),
            delivered=int(delivered),
            failed=int(failed),
            in_progress=int(total) - int(delivered) - int(failed),
        )
        for county_code, township_code, total, delivered, failed in rows
    ]
    return CoverageOut(
        direction=direction,
        counties=len({i.county_code for i in items}),
        townships=len(items),
        shipments=sum(i.shipments for i in items),
        items=items,
    )
