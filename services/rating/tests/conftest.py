"""Rating test fixtures: one running rating service per test module (real database, real NATS),
and a feeder that publishes other services' events as real envelopes on the module's namespace."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from owkernel.bus import Bus
from owkernel.clock import Clock
from owkernel.contracts import EventData, decode, encode, make_envelope, spec_for
from owkernel.contracts.approval import ApplicationApproved, ApplicationRejected
from owkernel.contracts.common import Applicant, DeliveryChoice, ItemSnapshot
from owkernel.contracts.intake import ApplicationAccepted
from owtest import (
    RunningService,
    ServiceRunner,
    SigningKeys,
    eventually,
    fresh_database_url,
    service_settings,
)
from services.rating.app import create_app
from services.rating.settings import RatingSettings

INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def unique(prefix: str) -> str:
    """A value no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def idn() -> str:
    """An identity number of a fresh applicant (the rating service does not check its digit)."""
    return "37060219900101" + uuid.uuid4().hex[:4].upper()


class Feeder:
    """Plays the other services: publishes their events with the kernel Bus (Nats-Msg-Id = event id)
    and reads what rating published on its stream."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish(self, data: EventData) -> str:
        """Publish one event of another producer's contract; returns its envelope id."""
        spec = spec_for(data)
        envelope = make_envelope(data, source=spec.producer)
        await self.bus.js.publish(
            self.bus.wire_subject(spec.subject), encode(envelope), headers={"Nats-Msg-Id": envelope.id}
        )
        return envelope.id

    async def published(self, subject: str) -> list[Any]:
        """Every event rating has published under ``subject`` so far (read back from its stream)."""
        stream = self.bus.stream_name("rating")
        sub = await self.bus.js.pull_subscribe(
            self.bus.wire_subject(subject),
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=5.0),
        )
        out: list[Any] = []
        try:
            while True:
                try:
                    msgs = await sub.fetch(500, timeout=0.3)
                except Exception:  # nats TimeoutError: nothing more
                    break
                out.extend(decode(m.data)[1] for m in msgs)
        finally:
            await sub.unsubscribe()
        return out

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
    """intake.application.accepted for an application."""
    return ApplicationAccepted(
        application_no=application_no,
        applicant=Applicant(id_number=id_number, kind="person", name="测试居民", phone="13800000000"),
        item=ItemSnapshot(
            code=item_code,
            version=1,
            name="测试事项",
            kind="licensing",
            department=department,
            departments=departments or [department],
            lead_department=lead,
            window="commercial" if window == "commercial" else "general",
            legal_days=20,
            committed_days=5,
            trips=0,
            fee_fen=0,
        ),
        window="commercial" if window == "commercial" else ("investment" if window == "investment" else "general"),
        clerk=clerk,
        accepted_at=at or datetime.now(UTC),
        delivery=DeliveryChoice(method="window"),
    )


def approved(application_no: str, *, department: str = "D-MARKET") -> ApplicationApproved:
    """approval.application.approved."""
    return ApplicationApproved(
        application_no=application_no, item_code="ITEM-1", departments=[department], decided_at=datetime.now(UTC)
    )


def rejected(application_no: str, *, department: str) -> ApplicationRejected:
    """approval.application.rejected."""
    return ApplicationRejected(
        application_no=application_no,
        item_code="ITEM-1",
        department=department,
        reason="材料不符",
        decided_at=datetime.now(UTC),
    )


class Client:
    """The service's HTTP client with tokens at hand."""

    def __init__(self, svc: RunningService, keys: SigningKeys) -> None:
        self.svc = svc
        self.http = svc.client
        self.keys = keys

    def citizen(self, id_number: str) -> dict[str, str]:
        """Headers of an applicant."""
        return {"Authorization": f"Bearer {self.keys.citizen(id_number)}"}

    def staff(self, username: str, *roles: str, department: str | None = None) -> dict[str, str]:
        """Headers of a staff member."""
        return {"Authorization": f"Bearer {self.keys.staff(username, *roles, department=department)}"}

    @property
    def admin(self) -> dict[str, str]:
        """Headers of an admin."""
        return self.staff("admin", "admin")

    @property
    def supervisor(self) -> dict[str, str]:
        """Headers of a supervisor."""
        return self.staff("sup_li", "supervisor")


@pytest.fixture(scope="module")
def rating_overrides() -> dict[str, Any]:
    """Settings a test module wants different (override the fixture in the module)."""
    return {}


@pytest.fixture(scope="module")
def rating_clock() -> Clock | None:
    """The service's clock (None: the system's; a module that moves time overrides this with a FakeClock)."""
    return None


@pytest.fixture(scope="module")
async def rating(
    nats_url: str,
    signing_keys: SigningKeys,
    tmp_path_factory: pytest.TempPathFactory,
    rating_overrides: dict[str, Any],
    rating_clock: Clock | None,
) -> AsyncIterator[Client]:
    """A running rating service of this module alone: fresh database, own NATS namespace."""
    namespace = "t" + uuid.uuid4().hex[:10]
    url = fresh_database_url("rating", tmp_path_factory.mktemp("rating"))
    settings = service_settings(
        RatingSettings,
        database_url=url,
        nats_url=nats_url,
        namespace=namespace,
        link_secret="test-link-secret-0123456789",
        **rating_overrides,
    )
    factory = functools.partial(create_app, clock=rating_clock)
    async with ServiceRunner(create_app=factory, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        yield Client(svc, signing_keys)


@pytest.fixture(scope="module")
async def feeder(rating: Client) -> AsyncIterator[Feeder]:
    """Other services' side of the bus, in the rating module's namespace."""
    settings: RatingSettings = rating.svc.settings
    bus = Bus(settings.nats_url, name="rating-test-feeder", namespace=settings.nats_namespace)
    await bus.connect()
    await bus.ensure_streams()
    try:
        yield Feeder(bus)
    finally:
        await bus.close()


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
    from services.rating.attribution.models import Application

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
