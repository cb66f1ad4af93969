"""Rules of halls: the codes, the region each serves, and which hall a record belongs to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Conflict, Unprocessable, field_error
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of
from services.intake.deps import kernel_of
from services.intake.halls import repository
from services.intake.halls.models import Hall
from services.intake.halls.schemas import HallIn, HallOut

# The first two digits of every province-level division (GB/T 2260), as delivery's division table has them.
PROVINCES = frozenset(
    str(n) for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51)
) | frozenset(str(n) for n in (52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82))


def out(hall: Hall) -> HallOut:
    """The API shape of a hall."""
    return HallOut(code=hall.code, name=hall.name, level=hall.level, region_code=hall.region_code)


def _region_error(message: str) -> Unprocessable:
    return Unprocessable(message, errors=[field_error("body.region_code", message, "value_error")])


def check_region(*, level: str, region_code: str, city_region: str) -> None:
    """A city hall serves a city-level code (PPCC00000000), a county hall a county of this city (PPCCDD000000)."""
    code = region_code
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        raise _region_error("A region code is exactly 12 digits (province, city, county, township, village).")
    if code[:2] not in PROVINCES:
        raise _region_error(f"{code[:2]} is not a province code.")
    if code[2:4] == "00":
        raise _region_error("The code names no city.")
    if level == "city":
        if code[4:] != "00000000":
            raise _region_error("A city's hall serves a city: the code ends in eight zeros.")
        return
    if code[4:6] == "00" or code[6:] != "000000":
        raise _region_error("A county's hall serves a county: the code names a county and ends in six zeros.")
    if code[:4] != city_region[:4]:
        raise _region_error(f"The county is not in this city ({city_region[:4]}).")


async def create(session: AsyncSession, *, principal: Principal, data: HallIn) -> Hall:
    """Register a hall (409 when the code is taken; 422 when its region is not the city's or one of its counties)."""
    city = await repository.get(session, CITY_HALL)
    city_region = city.region_code if city is not None else data.region_code
    check_region(level=data.level, region_code=data.region_code, city_region=city_region)
    if await repository.get(session, data.code) is not None:
        raise Conflict(f"A hall with the code {data.code} exists already.", code="hall_exists")
    hall = Hall(
        code=data.code,
        name=data.name,
        level=data.level,
        region_code=data.region_code,
        created_by=principal.display,
        created_at=clock_of(session).now(),
    )
    repository.add(session, hall)
    # Flushed here so a concurrent create of the same code fails in this request (409 by the kernel's
    # integrity mapping, or the check above), not at the commit.
    await session.flush()
    return hall


async def require_known(session: AsyncSession, hall: str, *, field: str) -> str:
    """``hall`` when it is a registered hall; 422 naming ``field`` otherwise."""
    known = kernel_of(session).state.known_halls
    if hall in known:
        return hall
    if await repository.get(session, hall) is None:
        raise Unprocessable(
            f"There is no hall {hall}.", errors=[field_error(field, "unknown hall", "value_error", hall=hall)]
        )
    known.add(hall)
    return hall


def staff_hall(principal: Principal) -> str:
    """The hall a staff member works at (a token older than halls: the city's)."""
    return principal.hall or CITY_HALL
