"""Delivery's test harness: the real service on a real database and a real nats-server, and
real intake/approval envelopes published on the test's namespace. (The fixture that starts it
is in conftest.py.)"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from owkernel.contracts import Envelope
from owkernel.contracts.approval import CertificateIssued
from owkernel.contracts.common import Address, DeliveryChoice, WindowKind
from owkernel.contracts.intake import ApplicationAccepted
from owkernel.migrations import upgrade
from owtest import (
    Producers,
    RunningService,
    ServiceHarness,
    SigningKeys,
    events,
    eventually,
    free_port,
    producers_on,
    service_settings,
    serving,
    wait_ready,
)
from services.delivery.app import create_app
from services.delivery.settings import DeliverySettings
from simulators.couriers.settings import DEVELOPMENT_API_KEYS
from simulators.couriers.testing import couriers_settings, running_couriers

INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def whsec(label: str) -> str:
    """A Standard Webhooks secret for tests."""
    return "whsec_" + base64.b64encode(label.encode().ljust(32, b"#")[:32]).decode()


# sim-express is mid-rotation: the new secret signs, the old one still verifies.
EXPRESS_NEW = whsec("express-new")
EXPRESS_OLD = whsec("express-old")
POST_SECRET = whsec("post")
COURIER_SECRETS = json.dumps({"sim-express": f"{EXPRESS_NEW} {EXPRESS_OLD}", "sim-post": POST_SECRET})
SECRET_OF = {"sim-express": EXPRESS_NEW, "sim-post": POST_SECRET}
YANTAI = "370602001001"  # 芝罘区 向阳街道, a community in the demo city


def new_no() -> str:
    """A fresh application number."""
    return "APP-" + uuid.uuid4().hex[:12].upper()


def new_idn() -> str:
    """A fresh (shape-only) resident identity number."""
    return "370602" + f"{uuid.uuid4().int % 10**12:012d}"


def accepted(
    no: str,
    idn: str,
    *,
    method: Literal["mail", "window"] = "mail",
    region_code: str = YANTAI,
    detail: str = "芝罘区南大街1号",
    window: WindowKind = "general",
) -> ApplicationAccepted:
    """intake.application.accepted as intake publishes it (to be mailed, by default)."""
    address = (
        Address(region_code=region_code, detail=detail, recipient="测试居民", phone="13800000000")
        if method == "mail"
        else None
    )
    return events.accepted(
        no,
        id_number=idn,
        legal_days=10,
        window=window,
        delivery=DeliveryChoice(method=method, address=address),
    )


def certificate(no: str, idn: str) -> CertificateIssued:
    """approval.certificate.issued as approval publishes it."""
    return events.certificate_issued(no, holder_id_number=idn)


class Publisher(Producers):
    """Publishes other services' envelopes on the test namespace, as their outbox relays do."""

    async def accepted(self, no: str, idn: str, **kw: Any) -> Envelope:
        """Publish intake.application.accepted."""
        return await self.publish(accepted(no, idn, **kw), source="intake")

    async def certificate(self, no: str, idn: str) -> Envelope:
        """Publish approval.certificate.issued."""
        return await self.publish(certificate(no, idn), source="approval")


@dataclass
class Delivery(ServiceHarness):
    """A running delivery service with helpers."""

    publisher: Publisher
    base_url: str = "http://test"
    tokens: dict[str, str] = field(default_factory=dict)

    def citizen(self, idn: str) -> dict[str, str]:
        """Headers of an applicant."""
        return self.headers.citizen(idn)

    def staff(self, *roles: str, username: str = "staff1") -> dict[str, str]:
        """Headers of a staff member."""
        return self.headers.staff(username, *roles)

    async def shipments(self, no: str, idn: str) -> list[dict[str, Any]]:
        """The applicant's view of an application's shipments (newest first)."""
        r = await self.client.get("/api/v1/shipments", params={"application_no": no}, headers=self.citizen(idn))
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def wait_shipment(self, no: str, idn: str, *, status: str | None = None, count: int = 1) -> dict[str, Any]:
        """Wait for the application's newest shipment (optionally in a status)."""

        async def check() -> dict[str, Any] | None:
            items = await self.shipments(no, idn)
            if len(items) >= count and (status is None or items[0]["status"] == status):
                return items[0]
            return None

        found: dict[str, Any] = await eventually(check, timeout=15)
        return found

    async def ship(
        self, *, region_code: str = YANTAI, detail: str = "芝罘区南大街1号"
    ) -> tuple[str, str, dict[str, Any]]:
        """Accept and certify a mail application; return (no, idn, its first shipment)."""
        no, idn = new_no(), new_idn()
        await self.publisher.accepted(no, idn, region_code=region_code, detail=detail)
        await self.publisher.certificate(no, idn)
        return no, idn, await self.wait_shipment(no, idn)

    async def webhook(
        self,
        carrier: str,
        body: dict[str, Any] | bytes,
        *,
        secret: str | None = None,
        webhook_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> httpx.Response:
        """POST a courier webhook signed the Standard Webhooks way."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        ts = timestamp or datetime.now(UTC)
        signature = Webhook(secret or SECRET_OF[carrier]).sign(msg_id=msg_id, timestamp=ts, data=payload.decode())
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(ts.timestamp())),
            "webhook-signature": signature,
            "content-type": "application/json",
        }
        return await self.client.post(f"/api/v1/webhooks/couriers/{carrier}", content=payload, headers=headers)

    async def report(self, shipment: dict[str, Any], status: str, **kw: Any) -> httpx.Response:
        """The shipment's courier reports a status."""
        body = {"tracking_no": shipment["tracking_no"], "status": status, "at": datetime.now(UTC).isoformat()}
        body.update(kw.pop("extra", {}))
        return await self.webhook(shipment["carrier"], body, **kw)

    async def published(self, subject: str, application_no: str) -> list[dict[str, Any]]:
        """Events of one application this service staged in its outbox (its publications)."""
        outbox = self.svc.kernel.tables.outbox
        async with self.svc.kernel.db.transaction() as session:
            rows = (
                await session.execute(select(outbox.c.payload).where(outbox.c.subject == subject).order_by(outbox.c.id))
            ).scalars()
            out = []
            for payload in rows:
                data: dict[str, Any] = json.loads(payload)["data"]
                if data.get("application_no") == application_no:
                    out.append(data)
            return out


def delivery_settings(database_url: str, nats_url: str, namespace: str, **overrides: Any) -> DeliverySettings:
    """Settings for a delivery under test: the test secrets (pass courier_apis to book couriers)."""
    values: dict[str, Any] = {"courier_secrets": COURIER_SECRETS}
    values.update(overrides)
    settings: DeliverySettings = service_settings(
        DeliverySettings, database_url=database_url, nats_url=nats_url, namespace=namespace, **values
    )
    return settings


def publisher_on(nats_url: str, namespace: str) -> contextlib.AbstractAsyncContextManager[Publisher]:
    """A publisher on the test namespace with every producer's stream (deleted afterwards)."""
    return producers_on(nats_url, namespace, name="delivery-test-publisher", delete_streams=True, kind=Publisher)


@contextlib.asynccontextmanager
async def couriers_on(data_dir: Path, *, webhook_base_url: str | None = None, **overrides: Any) -> AsyncIterator[str]:
    """The simulated couriers (the real app over uvicorn) signing with this suite's secrets;
    yields delivery's ``courier_apis`` for them. Without ``webhook_base_url`` they report nothing
    (the tests post their own webhooks)."""
    settings = couriers_settings(
        data_dir,
        port=free_port(),
        webhook_base_url=webhook_base_url or "http://127.0.0.1:9",
        report=webhook_base_url is not None,
        webhook_secrets=json.loads(COURIER_SECRETS),
        **overrides,
    )
    async with running_couriers(settings) as url:
        yield json.dumps({c: {"url": f"{url}/{c}", "api_key": key} for c, key in DEVELOPMENT_API_KEYS.items()})


@contextlib.asynccontextmanager
async def served(settings: DeliverySettings, keys: SigningKeys, port: int) -> AsyncIterator[RunningService]:
    """The delivery app behind uvicorn on a real port (the couriers call it back over HTTP)."""
    await asyncio.to_thread(upgrade, INI, settings.database_url)
    app = create_app(settings, verifier=keys.verifier())
    async with serving(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        await wait_ready(client)
        yield RunningService(app=app, client=client, settings=settings)
