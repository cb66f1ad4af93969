"""Delivery with the simulated couriers as the outside party they are: booked over their API,
heard back through signed status webhooks over real HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from owtest import ServiceRunner, SigningKeys, eventually, free_port, fresh_database_url
from services.delivery.app import create_app
from services.delivery.tests.harness import (
    INI,
    Delivery,
    couriers_on,
    delivery_settings,
    new_idn,
    new_no,
    publisher_on,
    served,
)
from services.delivery.webhooks.models import WebhookReceipt
from simulators.couriers.journey import FAIL_FIRST_ATTEMPT
from simulators.couriers.settings import DEVELOPMENT_API_KEYS


async def test_the_couriers_carry_the_certificate_to_delivered(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    namespace = "t" + uuid.uuid4().hex[:10]
    data = tmp_path_factory.mktemp("couriers")
    url = fresh_database_url("delivery_couriers", data)
    port = free_port()
    # The couriers call back over real HTTP (webhook base URL = this service; in the local run
    # it is the gateway).
    async with (
        publisher_on(nats_url, namespace) as publisher,
        couriers_on(data, webhook_base_url=f"http://127.0.0.1:{port}", pickup_seconds=0.5) as apis,
    ):
        settings = delivery_settings(url, nats_url, namespace, courier_apis=apis, port=port)
        async with served(settings, signing_keys, port) as svc:
            delivery = Delivery(svc=svc, keys=signing_keys, publisher=publisher)
            no, idn = new_no(), new_idn()
            await publisher.accepted(no, idn)
            await publisher.certificate(no, idn)
            failing_no, failing_idn = new_no(), new_idn()
            await publisher.accepted(failing_no, failing_idn, detail=f"芝罘区南大街2号 {FAIL_FIRST_ATTEMPT}")
            await publisher.certificate(failing_no, failing_idn)
            done = await delivery.wait_shipment(no, idn, status="delivered")
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
            assert outcomes == {"accepted"}


async def test_the_couriers_keep_their_reports_while_the_webhook_is_unreachable(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    namespace = "t" + uuid.uuid4().hex[:10]
    data = tmp_path_factory.mktemp("down")
    url = fresh_database_url("delivery_down", data)
    unreachable = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    async with (
        publisher_on(nats_url, namespace) as publisher,
        couriers_on(data, webhook_base_url=unreachable) as apis,
    ):
        port = free_port()
        settings = delivery_settings(url, nats_url, namespace, courier_apis=apis, port=port)
        async with served(settings, signing_keys, port) as svc, httpx.AsyncClient(timeout=5) as http:
            delivery = Delivery(svc=svc, keys=signing_keys, publisher=publisher)
            no, idn, shipment = await delivery.ship()
            carrier = shipment["carrier"]
            api = f"{json.loads(apis)[carrier]['url']}/v1/waybills/{shipment['tracking_no']}"
            headers = {"authorization": f"Bearer {DEVELOPMENT_API_KEYS[carrier]}"}

            async def retried() -> dict[str, Any] | None:
                state: dict[str, Any] = (await http.get(api, headers=headers)).json()
                return state if state["attempts"] >= 1 else None

            state = await eventually(retried)
            # The report is still owed (not dropped), and nothing moved.
            assert state["status"] == "created" and state["state"] == "open" and state["last_error"]
            assert (await delivery.shipments(no, idn))[0]["status"] == "created"


async def test_a_partner_without_an_api_takes_no_waybill(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    namespace = "t" + uuid.uuid4().hex[:10]
    url = fresh_database_url("delivery_none", tmp_path_factory.mktemp("none"))
    # No DELIVERY_COURIER_APIS (a deployment without partners): shipments wait for one.
    settings = delivery_settings(url, nats_url, namespace)
    async with (
        publisher_on(nats_url, namespace) as publisher,
        ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc,
    ):
        delivery = Delivery(svc=svc, keys=signing_keys, publisher=publisher)
        no, idn = new_no(), new_idn()
        await publisher.accepted(no, idn)
        await publisher.certificate(no, idn)
        shipment = await delivery.wait_shipment(no, idn, status="pending")
        assert shipment["carrier"] is None and shipment["tracking_no"] is None
