"""Test harness of approval: the service in-process on a real database and a real nats-server,
intake's (and rating's, delivery's) events published as real envelopes on the bus, approval's
own events read back from its stream, and time under the test's control."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nats.aio.msg import Msg
from prometheus_client.parser import text_string_to_metric_families

from owkernel.bus import Bus
from owkernel.clock import FakeClock
from owkernel.contracts import Envelope, EventData, decode
from owkernel.contracts.common import WindowKind
from owkernel.contracts.intake import ApplicationAccepted
from owtest import (
    Producers,
    ServiceHarness,
    ServiceRunner,
    SigningKeys,
    events,
    eventually,
    service_settings,
)
from services.approval.app import create_app
from services.approval.settings import ApprovalSettings

INI = Path(__file__).resolve().parent.parent / "alembic.ini"
HALL = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of a day in the hall's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=HALL)


def accepted(
    application_no: str,
    *,
    departments: list[str],
    lead: str | None = None,
    committed_days: int = 5,
    accepted_at: datetime,
    project_no: str | None = None,
    stage: int | None = None,
    id_number: str = "370602198501010012",
    name: str = "张三丰",
    item_code: str = "ITEM-1",
) -> ApplicationAccepted:
    """The event intake publishes when the window accepts an application."""
    window: WindowKind = "investment" if project_no else "general"
    return events.accepted(
        application_no,
        id_number=id_number,
        name=name,
        phone=None,
        department=lead or departments[0],
        departments=departments,
        lead=lead,
        item_code=item_code,
        item_name="建设工程规划许可",
        item_window=window,
        window=window,
        committed_days=committed_days,
        trips=1,
        accepted_at=accepted_at,
        project_no=project_no,
        stage=stage,
    )


@dataclass(frozen=True)
class Seen:
    """An event approval published, as read back from its stream."""

    id: str
    type: str
    data: dict[str, Any]


@dataclass
class Approval(ServiceHarness):
    """The running service, the bus the other services would publish on, and approval's events."""

    bus: Bus
    clock: FakeClock
    events: list[Seen] = field(default_factory=list)

    async def publish(self, data: EventData) -> Envelope:
        """Publish another service's event exactly as its outbox relay would."""
        return await Producers(self.bus).publish(data)

    def approver(self, department: str, username: str | None = None) -> dict[str, str]:
        """Headers of an approver of ``department``."""
        return self.headers.approver(department, username or f"appr_{department.lower()}")

    def supervisor(self) -> dict[str, str]:
        """Headers of a supervisor."""
        return self.headers.supervisor()

    def admin(self) -> dict[str, str]:
        """Headers of the administrator."""
        return self.headers.admin()

    async def settled(self) -> None:
        """The sentinel of approval's own events: a fresh application accepted, and its task's
        assignment read back from approval's stream. The relay publishes the outbox in the order
        it was written, so every event approval wrote before (a duplicate too) is collected."""
        no = f"SENTINEL-{uuid.uuid4().hex[:8]}"
        await self.publish(accepted(no, departments=["SENTINEL"], accepted_at=self.clock.now()))
        await self.wait_events("approval.task.assigned", application_no=no)

    def of(self, type_: str, **match: Any) -> list[Seen]:
        """Approval's events of a type whose data has every ``match`` value."""
        return [e for e in self.events if e.type == type_ and all(e.data.get(k) == v for k, v in match.items())]

    async def wait_events(self, type_: str, count: int = 1, timeout: float = 10.0, **match: Any) -> list[Seen]:
        """Wait until approval has published ``count`` such events."""

        async def enough() -> list[Seen]:
            found = self.of(type_, **match)
            return found if len(found) >= count else []

        found: list[Seen] = await eventually(enough, timeout=timeout)
        return found

    async def open_tasks(self, department: str, application_no: str) -> list[dict[str, Any]]:
        """Wait until the application's tasks are listed for an approver of ``department``."""

        async def listed() -> list[dict[str, Any]]:
            r = await self.client.get(
                "/api/v1/tasks", params={"status": "open", "limit": 200}, headers=self.approver(department)
            )
            assert r.status_code == 200, r.text
            return [t for t in r.json()["items"] if t["application_no"] == application_no]

        tasks: list[dict[str, Any]] = await eventually(listed)
        return tasks

    async def open_tasks_now(self, department: str, application_no: str) -> list[dict[str, Any]]:
        """The application's open tasks an approver of ``department`` sees right now."""
        r = await self.client.get(
            "/api/v1/tasks", params={"status": "open", "limit": 200}, headers=self.approver(department)
        )
        assert r.status_code == 200, r.text
        return [t for t in r.json()["items"] if t["application_no"] == application_no]

    async def clock_of(self, kind: str, ref: str) -> dict[str, Any]:
        """A clock by kind and ref, with its ledger."""
        r = await self.client.get("/api/v1/clocks", params={"kind": kind, "limit": 200}, headers=self.supervisor())
        assert r.status_code == 200, r.text
        found = [c for c in r.json()["items"] if c["ref"] == ref]
        assert found, f"no {kind} clock for {ref}"
        detail = await self.client.get(f"/api/v1/clocks/{found[0]['clock_id']}", headers=self.supervisor())
        assert detail.status_code == 200, detail.text
        body: dict[str, Any] = detail.json()
        return body

    async def cards_counted(self) -> dict[tuple[str, str], float]:
        """``onewindow_cards_raised_total`` from ``/metrics``, by (color, department)."""
        r = await self.client.get("/metrics")
        assert r.status_code == 200, r.text
        return {
            (sample.labels["color"], sample.labels["department"]): sample.value
            for family in text_string_to_metric_families(r.text)
            if family.name == "onewindow_cards_raised"
            for sample in family.samples
            if sample.name == "onewindow_cards_raised_total"
        }

    async def scan(self) -> dict[str, Any]:
        """Run the card scan now."""
        r = await self.client.post("/api/v1/supervision/scan", headers=self.supervisor())
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


@contextlib.asynccontextmanager
async def running_approval(
    *,
    database_url: str,
    nats_url: str,
    namespace: str,
    keys: SigningKeys,
    start: datetime,
    **overrides: Any,
) -> AsyncIterator[Approval]:
    """Approval running against a real database and NATS, with a fake clock starting at ``start``."""
    values: dict[str, Any] = {
        "card_scan_interval_seconds": 3600.0,
        "digest_check_seconds": 3600.0,
        "notify_poll_seconds": 0.05,
        "notify_backoff_seconds": 0.05,
    }
    values.update(overrides)
    settings = service_settings(
        ApprovalSettings, database_url=database_url, nats_url=nats_url, namespace=namespace, **values
    )
    clock = FakeClock(start)
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=keys, clock=clock) as svc:
        bus = Bus(nats_url, name="approval-test", namespace=namespace)
        await bus.connect()
        await bus.ensure_streams()
        harness = Approval(svc=svc, bus=bus, clock=clock, keys=keys)

        async def collect(msg: Msg) -> None:
            envelope, _ = decode(msg.data)
            harness.events.append(Seen(id=envelope.id, type=envelope.type, data=dict(envelope.data)))

        sub = await bus.js.subscribe(
            bus.wire_subject("approval.>"), stream=bus.stream_name("approval"), cb=collect, ordered_consumer=True
        )
        try:
            yield harness
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            await asyncio.sleep(0)
            await bus.close()
