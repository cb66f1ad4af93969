"""Kiosk rules: one-time device keys, revocation, throttled votes."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Forbidden, NotFound, Principal, TooManyRequests, Unauthorized
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of
from services.rating.common import new_id
from services.rating.kiosks import repository
from services.rating.kiosks.models import Kiosk
from services.rating.known_applications import repository as applications
from services.rating.reviews import service as ratings
from services.rating.reviews.models import Review
from services.rating.settings import RatingSettings


def hash_key(device_key: str) -> str:
    """What is kept of a device key: its SHA-256 (the key is 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(device_key.encode()).hexdigest()


async def register(
    session: AsyncSession,
    *,
    principal: Principal,
    window: str,
    department: str | None,
    label: str | None,
    hall: str = CITY_HALL,
) -> tuple[Kiosk, str]:
    """A new kiosk and its device key (returned once, never stored)."""
    kiosk_id = new_id("KS")
    device_key = f"ks_{secrets.token_urlsafe(32)}"
    kiosk = Kiosk(
        kiosk_id=kiosk_id,
        window=window,
        hall=hall,
        department=department,
        label=label,
        key_hash=hash_key(device_key),
        created_by=principal.username or principal.subject_id,
        created_at=clock_of(session).now(),
    )
    repository.add(session, kiosk)
    return kiosk, device_key


async def revoke(session: AsyncSession, *, kiosk_id: str) -> Kiosk:
    """The kiosk's key stops working (revoking twice is harmless)."""
    kiosk = await repository.get(session, kiosk_id)
    if kiosk is None:
        raise NotFound(f"No kiosk {kiosk_id}.")
    if kiosk.revoked_at is None:
        kiosk.revoked_at = clock_of(session).now()
    return kiosk


async def authenticate(session: AsyncSession, *, device_key: str | None) -> Kiosk:
    """The kiosk holding this key; 401 for no or an unknown key, 403 for a revoked one."""
    if not device_key:
        raise Unauthorized("A kiosk vote needs its X-Device-Key.")
    kiosk = await repository.by_key_hash(session, hash_key(device_key))
    if kiosk is None:
        raise Unauthorized("Unknown device key.")
    if kiosk.revoked_at is not None:
        raise Forbidden("This kiosk has been revoked.")
    return kiosk


async def vote(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    device_key: str | None,
    window: str,
    score: int,
    indicators: dict[str, int] | None,
    comment: str | None,
    application_no: str | None,
    clerk: str | None,
) -> tuple[Review, str | None]:
    """A vote on the spot, throttled per device so one kiosk cannot stuff the box."""
    if not device_key:
        raise Unauthorized("A kiosk vote needs its X-Device-Key.")
    now = clock_of(session).now()
    interval = timedelta(seconds=settings.kiosk_min_interval_seconds)
    slot = await repository.take_vote_slot(
        session,
        key_hash=hash_key(device_key),
        window=window,
        now=now,
        not_after=now - interval if interval else None,
        hour_ago=now - timedelta(hours=1),
        max_per_hour=settings.kiosk_max_per_hour,
    )
    if slot is None:
        await _refusal(session, settings=settings, device_key=device_key, window=window, now=now, interval=interval)
        raise AssertionError("unreachable")  # _refusal always raises
    application = await applications.get(session, application_no) if application_no else None
    return await ratings.submit(
        session,
        settings=settings,
        channel="kiosk",
        score=score,
        indicators=indicators,
        comment=comment,
        application=application,
        department=None if application is not None else slot.department,
        window=slot.window,
        clerk=clerk,
        kiosk_id=slot.kiosk_id,
        hall=slot.hall,
        rated_at=now,
        responsible_department=None if application is not None else (slot.department or settings.hall_department),
    )


async def _refusal(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    device_key: str,
    window: str,
    now: datetime,
    interval: timedelta,
) -> None:
    """Say why a kiosk may not vote now (only on the unhappy path: one more read)."""
    kiosk = await authenticate(session, device_key=device_key)
    if window != kiosk.window:
        raise Forbidden(f"This kiosk stands at window {kiosk.window}.")
    hour_start = kiosk.hour_started_at
    if hour_start and hour_start > now - timedelta(hours=1) and kiosk.hour_votes >= settings.kiosk_max_per_hour:
        wait = math.ceil((hour_start + timedelta(hours=1) - now).total_seconds())
        raise TooManyRequests("This kiosk has voted too often this hour.", headers={"Retry-After": str(wait)})
    last = kiosk.last_vote_at or now
    wait = max(1, math.ceil((last + interval - now).total_seconds()))
    raise TooManyRequests("One vote at a time: wait a moment.", headers={"Retry-After": str(wait)})
