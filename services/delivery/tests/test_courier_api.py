"""Delivery's HTTP courier adapter against the real simulated couriers, served over HTTP."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from owtest import eventually, free_port, serving
from services.delivery.partners.adapter import WaybillRequest
from services.delivery.partners.couriers import (
    CourierApi,
    CourierApisError,
    HttpCourier,
    PartnerUnavailable,
    idempotency_key,
    parse_courier_apis,
)
from simulators.couriers.settings import DEVELOPMENT_API_KEYS
from simulators.couriers.testing import couriers_settings, running_couriers

REQUEST = WaybillRequest(
    shipment_id="shp_a",
    application_no="APP-20261206-000001",
    direction="outbound",
    attempt=1,
    region_code="370602001001",
    address_detail="1 Main St",
    contact_name="Li",
    contact_phone="13800000000",
)


def test_the_setting_names_each_partner_url_and_key() -> None:
    assert parse_courier_apis(None) == {} and parse_courier_apis(" ") == {}
    apis = parse_courier_apis('{"sim-post": {"url": "http://127.0.0.1:8011/sim-post/", "api_key": "k"}}')
    assert apis == {"sim-post": CourierApi(url="http://127.0.0.1:8011/sim-post", api_key="k")}
    for bad in ("[1]", "{", '{"sim-post": {"url": "x"}}', '{"sim-post": "k"}'):
        with pytest.raises(CourierApisError):
            parse_courier_apis(bad)


async def test_a_redone_booking_is_the_same_waybill_and_cancel_stops_at_pickup(tmp_path: Path) -> None:
    # report=False: nobody listens for the journey; the partner's own API says where it stands.
    settings = couriers_settings(tmp_path, port=free_port(), webhook_base_url="http://127.0.0.1:9", report=False)
    async with running_couriers(settings) as url, httpx.AsyncClient(timeout=5) as http:
        api = CourierApi(url=f"{url}/sim-post", api_key=DEVELOPMENT_API_KEYS["sim-post"])
        courier = HttpCourier("sim-post", api, http)
        first = await courier.create_waybill(None, REQUEST)  # type: ignore[arg-type]
        # The shipment's transaction rolled back and is redone: a new row id, the same identity.
        redo = await courier.create_waybill(None, replace(REQUEST, shipment_id="shp_b"))  # type: ignore[arg-type]
        assert redo == first and idempotency_key(REQUEST) == "APP-20261206-000001:outbound:1"
        second = await courier.create_waybill(None, replace(REQUEST, attempt=2))  # type: ignore[arg-type]
        assert second.tracking_no != first.tracking_no
        assert await courier.cancel(None, first.tracking_no) is True  # type: ignore[arg-type]
        wrong = HttpCourier("sim-post", CourierApi(url=api.url, api_key="not-the-key"), http)
        with pytest.raises(PartnerUnavailable):
            await wrong.create_waybill(None, REQUEST)  # type: ignore[arg-type]
    nobody = CourierApi(url=f"http://127.0.0.1:{free_port()}/sim-post", api_key="k")
    async with httpx.AsyncClient(timeout=5) as http:
        down = HttpCourier("sim-post", nobody, http)
        with pytest.raises(PartnerUnavailable) as refused:
            await down.create_waybill(None, REQUEST)  # type: ignore[arg-type]
        assert refused.value.status == 503


async def test_a_parcel_picked_up_can_no_longer_be_cancelled(tmp_path: Path) -> None:
    # Delivery's webhook door as far as this test needs it: every report taken.
    door, door_port = FastAPI(), free_port()
    door.post("/api/v1/webhooks/couriers/{carrier}", status_code=204)(_take)
    settings = couriers_settings(tmp_path, port=free_port(), webhook_base_url=f"http://127.0.0.1:{door_port}")
    async with serving(door, door_port), running_couriers(settings) as url, httpx.AsyncClient(timeout=5) as http:
        api = CourierApi(url=f"{url}/sim-express", api_key=DEVELOPMENT_API_KEYS["sim-express"])
        courier = HttpCourier("sim-express", api, http)
        waybill = await courier.create_waybill(None, REQUEST)  # type: ignore[arg-type]
        headers = {"authorization": f"Bearer {api.api_key}"}

        async def delivered() -> bool:
            state = (await http.get(f"{api.url}/v1/waybills/{waybill.tracking_no}", headers=headers)).json()
            return bool(state["status"] == "delivered")

        await eventually(delivered, timeout=10)
        assert await courier.cancel(None, waybill.tracking_no) is False  # type: ignore[arg-type]


async def _take(carrier: str) -> None:
    return None
