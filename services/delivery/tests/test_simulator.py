"""The simulated couriers: signed status reports over real HTTP, a queue that survives restarts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from owkernel.testing import ServiceRunner, SigningKeys, eventually, free_port, fresh_database_url
from services.delivery.app import create_app
from services.delivery.partners.models import SimCourierJob
from services.delivery.partners.simulated import FAIL_FIRST_ATTEMPT
from services.delivery.tests.support import (
    INI,
    Delivery,
    delivery_settings,
    new_idn,
    new_no,
    publisher_on,
    served,
)
from services.delivery.webhooks.models import WebhookReceipt


async def test_simulated_courier_carries_the_certificate_to_delivered(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    namespace = "t" + uuid.uuid4().hex[:10]
    url = fresh_database_url("delivery_sim", tmp_path_factory.mktemp("sim"))
    port = free_port()
    async with publisher_on(nats_url, namespace) as publisher:
        # First run: the simulator is off, so the waybill is made but nobody reports on it.
        first = delivery_settings(url, nats_url, namespace)
        async with served(first, signing_keys, port) as svc:
            delivery = Delivery(svc=svc, keys=signing_keys, publisher=publisher)
            no, idn = new_no(), new_idn()
            await publisher.accepted(no, idn)
            await publisher.certificate(no, idn)
            shipment = await delivery.wait_shipment(no, idn, status="created")
            failing_no, failing_idn = new_no(), new_idn()
            await publisher.accepted(failing_no, failing_idn, detail=f"芝罘区南大街2号 {FAIL_FIRST_ATTEMPT}")
            await publisher.certificate(failing_no, failing_idn)
            await delivery.wait_shipment(failing_no, failing_idn, status="created")
            async with svc.kernel.db.transaction() as session:
                queued = await session.scalar(select(func.count()).select_from(SimCourierJob))
            assert queued == 2
        # Second run on the same database with the couriers on, calling back over real HTTP
        # (webhook base URL = this service; in the local run it is the gateway).
        second = delivery_settings(
            url,
            nats_url,
            namespace,
            simulator_enabled=True,
            courier_delay_seconds=0.0,
            webhook_base_url=f"http://127.0.0.1:{port}",
            port=port,
        )
        async with served(second, signing_keys, port) as svc:
            delivery = Delivery(svc=svc, keys=signing_keys, publisher=publisher)
            done = await delivery.wait_shipment(no, idn, status="delivered")
            assert done["shipment_id"] == shipment["shipment_id"]
            assert [(e["status"], e["source"], e["applied"]) for e in done["events"]] == [
                ("created", "system", True),
                ("picked_up", "courier", True),
                ("in_transit", "courier", True),
                ("delivered", "courier", True),
            ]
            delivered = await delivery.published("delivery.shipment.delivered", no)
            assert len(delivered) == 1

            # The failing parcel: first attempt fails, the re-ship with the other partner arrives.
            async def both() -> list[dict[str, Any]] | None:
                items = await delivery.shipments(failing_no, failing_idn)
                return items if len(items) == 2 and items[0]["status"] == "delivered" else None

            items = await eventually(both, timeout=20)
            assert [(s["attempt"], s["carrier"], s["status"]) for s in items] == [
                (2, "sim-post", "delivered"),
                (1, "sim-express", "failed"),
            ]
            assert items[1]["failure_reason"] == "recipient not reached (simulated)"
            async with svc.kernel.db.transaction() as session:
                outcomes = set((await session.execute(select(WebhookReceipt.outcome).distinct())).scalars())
                pending = await session.scalar(
                    select(func.count()).select_from(SimCourierJob).where(SimCourierJob.done.is_(False))
                )
            assert outcomes == {"accepted"} and pending == 0


async def test_simulated_courier_keeps_its_reports_while_the_webhook_is_unreachable(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    namespace = "t" + uuid.uuid4().hex[:10]
    url = fresh_database_url("delivery_down", tmp_path_factory.mktemp("down"))
    settings = delivery_settings(
        url,
        nats_url,
        namespace,
        simulator_enabled=True,
        courier_delay_seconds=0.0,
        webhook_base_url=f"http://127.0.0.1:{free_port()}",  # nobody listens there
    )
    async with (
        publisher_on(nats_url, namespace) as publisher,
        ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc,
    ):
        delivery = Delivery(svc=svc, keys=signing_keys, publisher=publisher)
        no, idn, shipment = await delivery.ship()

        async def retried() -> SimCourierJob | None:
            async with svc.kernel.db.transaction() as session:
                query = select(SimCourierJob).where(SimCourierJob.tracking_no == shipment["tracking_no"])
                job = (await session.execute(query)).scalar_one()
                return job if job.attempts >= 1 else None

        job = await eventually(retried)
        # The report is still owed (not dropped), and nothing moved.
        assert job.next_index == 0 and not job.done and job.last_error
        assert (await delivery.shipments(no, idn))[0]["status"] == "created"
