"""What rating's tests share: the service's client with its people, the feeder that plays the
other services on the bus, rating's defaults for their events, and waits on what rating learnt.
(The fixtures that start them are in conftest.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from owkernel.bus import Bus
from owkernel.contracts import EventData
from owkernel.contracts.approval import ApplicationApproved, ApplicationRejected
from owkernel.contracts.intake import ApplicationAccepted
from owtest import (
    Producers,
    RunningService,
    ServiceHarness,
    SigningKeys,
    events,
    eventually,
    stream_events,
)

INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def unique(prefix: str) -> str:
    """A value no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def idn() -> str:
    """An identity number of a fresh applicant (the rating service does not check its digit)."""
    return "37060219900101" + uuid.uuid4().hex[:4].upper()


class Feeder:
    """Plays the other services (publishes their events as their relays do) and reads what
    rating published on its stream."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.producers = Producers(bus)

    async def publish(self, data: EventData) -> str:
        """Publish one event of another producer's contract; returns its envelope id."""
        return (await self.producers.publish(data)).id

    async def published(self, subject: str) -> list[Any]:
        """Every event rating has published under ``subject`` so far (read back from its stream)."""
        return [data for _, data in await stream_events(self.bus, "rating", subject)]

    async def wait_published(self, subject: str, match: Callable[[Any], bool], *, timeout: float = 10.0) -> list[Any]:
        """Wait until rating has published an event under ``subject`` that ``match`` accepts."""

        async def check() -> list[Any]:
            return [e for e in await self.published(subject) if match(e)]

        found: list[Any] = await eventually(check, timeout=timeout, interval=0.1)
        return found


def accepted(
    application_no: str,
    *,
    id_number: str,
    department: str = "D-MARKET",
    window: str = "commercial",
    clerk: str | None = "clerk_wang",
    item_code: str = "ITEM-1",
    departments: list[str] | None = None,
    lead: str | None = None,
    at: datetime | None = None,
) -> ApplicationAccepted:
    """intake.application.accepted for an application (a commercial window's, by default)."""
    return events.accepted(
        application_no,
        id_number=id_number,
        department=department,
        departments=departments,
        lead=lead,
        item_code=item_code,
        item_window="commercial" if window == "commercial" else "general",
        window="commercial" if window == "commercial" else ("investment" if window == "investment" else "general"),
        clerk=clerk,
        accepted_at=at,
    )


def approved(application_no: str, *, department: str = "D-MARKET") -> ApplicationApproved:
    """approval.application.approved."""
    return events.approved(application_no, departments=[department])


def rejected(application_no: str, *, department: str) -> ApplicationRejected:
    """approval.application.rejected."""
    return events.rejected(application_no, department=department)


class Client(ServiceHarness):
    """The running service with tokens at hand."""

    def __init__(self, svc: RunningService, keys: SigningKeys) -> None:
        super().__init__(svc=svc, keys=keys)

    @property
    def http(self) -> httpx.AsyncClient:
        """HTTP into the app (ASGI)."""
        return self.svc.client

    def citizen(self, id_number: str) -> dict[str, str]:
        """Headers of an applicant."""
        return self.headers.citizen(id_number)

    def staff(self, username: str, *roles: str, department: str | None = None) -> dict[str, str]:
        """Headers of a staff member."""
        return self.headers.staff(username, *roles, department=department)

    @property
    def admin(self) -> dict[str, str]:
        """Headers of an admin."""
        return self.headers.admin()

    @property
    def supervisor(self) -> dict[str, str]:
        """Headers of a supervisor."""
        return self.headers.supervisor("sup_li")


async def decided_application(
    rating: Client,
    feeder: Feeder,
    *,
    decision: str = "approved",
    department: str = "D-MARKET",
    **kwargs: Any,
) -> tuple[str, str]:
    """An application accepted and decided, as rating learns it from the bus; (number, applicant)."""
    no = unique("APP")
    applicant = kwargs.pop("id_number", None) or idn()
    await feeder.publish(accepted(no, id_number=applicant, department=department, **kwargs))
    if decision == "approved":
        await feeder.publish(approved(no, department=department))
    else:
        await feeder.publish(rejected(no, department=department))
    await wait_decided(rating, no)
    return no, applicant


async def wait_decided(rating: Client, application_no: str) -> None:
    """Wait until rating has taken in the application's decision."""
    from services.rating.known_applications.models import Application

    async def check() -> bool:
        async with rating.svc.kernel.db.transaction() as session:
            app = await session.get(Application, application_no)
            return app is not None and app.decision is not None

    await eventually(check, timeout=15)


def yesterday() -> date:
    """A past day in the hall's zone (safe for survey and inspection dates)."""
    return (datetime.now(UTC) + timedelta(hours=8)).date() - timedelta(days=1)


async def assert_figures_consistent(rating: Client) -> None:
    """The daily roll-up the figures read agrees with a count over every rating."""
    from services.rating.reviews import repository

    async with rating.svc.kernel.db.transaction() as session:
        for by in repository.GROUPS:
            for channel in (None, "survey"):
                fast = await repository.stats(session, by=by, start=None, end=None, channel=channel)
                slow = await repository.stats_from_ratings(session, by=by, start=None, end=None, channel=channel)
                assert fast == slow, (by, channel)
