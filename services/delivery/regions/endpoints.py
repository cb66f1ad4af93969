"""Region look-up (is this code right?) and the coverage report per county and township."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from owkernel.app import SessionDep
from owkernel.errors import Unprocessable, field_error
from owkernel.roles import Staff
from services.delivery.regions import repository
from services.delivery.regions.divisions import (
    HOME_CITY_CODE,
    RegionCodeError,
    county_name,
    divisions,
    parse_region,
    township_name,
    zone_of,
)
from services.delivery.regions.schemas import CoverageOut, CoverageRow, DivisionList, DivisionOut, RegionOut

router = APIRouter(tags=["regions"])


@router.get("/api/v1/delivery/regions/{code}", response_model=RegionOut, summary="Check a 12-digit division code")
async def check_region(code: str) -> RegionOut:
    """The names the data knows for a valid code; 422 saying which part is wrong otherwise."""
    try:
        region = parse_region(code)
    except RegionCodeError as exc:
        raise Unprocessable(
            str(exc), code=exc.code, errors=[field_error("path.code", str(exc), exc.code, **exc.params)]
        ) from exc
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
            raise Unprocessable("from and to need a UTC offset.", code="time_offset_required")
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


_LEVELS = {2: "province", 4: "city", 6: "county", 9: "township"}
SEARCH_LIMIT = 50


def _division(code: str) -> DivisionOut:
    data = divisions()
    tables = {2: data.provinces, 4: data.cities, 6: data.counties, 9: data.townships}
    path = [tables[n].get(code[:n], code[:n]) for n in (2, 4, 6, 9) if n <= len(code)]
    return DivisionOut(code=code, name=path[-1], level=_LEVELS[len(code)], path=path)


@router.get("/api/v1/delivery/regions", response_model=DivisionList, summary="Divisions under a parent, or by name")
async def list_regions(
    parent: Annotated[str | None, Query(pattern=r"^(\d{2}|\d{4}|\d{6})$", description="2, 4 or 6 digits")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=40, description="part of a name")] = None,
) -> DivisionList:
    """For an address picker: the provinces, the children of a province, city or county the data
    lists (empty where it has none: villages never, townships only for the excerpt's counties), or
    up to 50 divisions whose name contains ``q`` (below ``parent`` when given)."""
    data = divisions()
    tables = (data.provinces, data.cities, data.counties, data.townships)
    if q is not None:
        found = [
            code
            for table in tables
            for code, name in table.items()
            if q in name and (parent is None or code.startswith(parent))
        ]
        return DivisionList(parent=parent, items=[_division(c) for c in sorted(found, key=len)[:SEARCH_LIMIT]])
    size = 2 if parent is None else {2: 4, 4: 6, 6: 9}[len(parent)]
    table = {2: data.provinces, 4: data.cities, 6: data.counties, 9: data.townships}[size]
    codes = sorted(c for c in table if parent is None or c.startswith(parent))
    return DivisionList(parent=parent, items=[_division(c) for c in codes])
