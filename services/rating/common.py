"""Small helpers every rating domain uses: ids, clocks, local periods, idempotent creates."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Idempotency, Unprocessable, request_hash
from owkernel.errors import field_error
from services.rating.db import tables
from services.rating.settings import RatingSettings

idempotency = Idempotency(tables)


def new_id(prefix: str) -> str:
    """A short random id with a readable prefix (``RV-3f9a...``)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def utcnow() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


# The days the hall's calendar names. Shifting a day between the hall's zone and UTC, or moving
# to the next day or month, leaves Python's date range near its ends (0001-01-01 in UTC+8 is
# still year 0 in UTC; 9999-12 has no next month), so days outside these are refused; nothing
# the platform records is older than the epoch.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)


def checked_day(day: date, *, field: str) -> date:
    """``day`` when the hall's calendar can name it; 422 otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        message = f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
        raise Unprocessable(
            f"{field} must be {message}.",
            errors=[
                field_error(field, message, "date_out_of_range", first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
            ],
        )
    return day


def zone(settings: RatingSettings) -> ZoneInfo:
    """The hall's time zone."""
    return ZoneInfo(settings.timezone)


def local_date(value: datetime, settings: RatingSettings) -> date:
    """The hall's calendar date of an instant."""
    return value.astimezone(zone(settings)).date()


def day_start(day: date, settings: RatingSettings) -> datetime:
    """Midnight of a local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone(settings)).astimezone(UTC)


def period(start: date | None, end: date | None, settings: RatingSettings) -> tuple[datetime | None, datetime | None]:
    """``[from 00:00, to+1 00:00)`` in local time as UTC instants; ``to`` is inclusive."""
    if start is not None:
        checked_day(start, field="from")
    if end is not None:
        checked_day(end, field="to")
    if start is not None and end is not None and end < start:
        raise Unprocessable("'to' is before 'from'.", errors=[field_error("to", "before from", "to_before_from")])
    lower = day_start(start, settings) if start is not None else None
    upper = day_start(end + timedelta(days=1), settings) if end is not None else None
    return lower, upper


def parse_month(month: str) -> tuple[date, date]:
    """``YYYY-MM`` -> (first day, first day of next month); 422 otherwise."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError as exc:
        raise Unprocessable("month must be YYYY-MM.", errors=[field_error("month", "YYYY-MM", "month_format")]) from exc
    if not FIRST_DAY <= first <= LAST_DAY.replace(day=1):
        bounds = f"between {FIRST_DAY:%Y-%m} and {LAST_DAY:%Y-%m}"
        raise Unprocessable(
            f"month must be {bounds}.",
            errors=[
                field_error("month", bounds, "month_out_of_range", first=f"{FIRST_DAY:%Y-%m}", last=f"{LAST_DAY:%Y-%m}")
            ],
        )
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


async def idempotent_create(
    session: AsyncSession,
    *,
    request: Request,
    owner: str,
    key: str | None,
    body: bytes | str,
    create: Callable[[], Awaitable[Any]],
    status_code: int = 201,
) -> Any:
    """Run ``create`` once per Idempotency-Key and body; replay its response afterwards."""
    fingerprint = request_hash(request.method, request.url.path, body)
    replay = await idempotency.replay(session, owner=owner, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    result = await create()
    payload = jsonable_encoder(result)
    await idempotency.remember(
        session, owner=owner, key=key, fingerprint=fingerprint, status_code=status_code, body=payload
    )
    return JSONResponse(payload, status_code=status_code)
