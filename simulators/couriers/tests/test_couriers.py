"""The simulated couriers over real HTTP: booking with a key, cancelling, signed journeys, retries."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from standardwebhooks.webhooks import Webhook

from owtest import eventually, free_port, serving
from simulators.couriers.app import SimulatorNotAllowedError, create_app
from simulators.couriers.settings import DEVELOPMENT_API_KEYS, DEVELOPMENT_WEBHOOK_SECRETS, CouriersSimSettings
from simulators.couriers.testing import couriers_settings, running_couriers

KEY = {"authorization": f"Bearer {DEVELOPMENT_API_KEYS['sim-post']}"}


def waybill(detail: str = "1 Main St", attempt: int = 1) -> dict[str, Any]:
    return {
        "shipment_id": "shp_1",
        "direction": "outbound",
        "attempt": attempt,
        "region_code": "370602001001",
        "address_detail": detail,
        "contact_name": "Li",
        "contact_phone": "13800000000",
    }


class Receiver:
    """Delivery's webhook door, as far as a courier can tell: verifies and keeps each report."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, dict[str, Any]]] = []
        self.app = FastAPI()

        @self.app.post("/api/v1/webhooks/couriers/{carrier}")
        async def receive(carrier: str, request: Request) -> Response:
            body = await request.body()
            data = Webhook(DEVELOPMENT_WEBHOOK_SECRETS[carrier]).verify(body, dict(request.headers))
            self.reports.append((request.headers["webhook-id"], data))
            return Response(status_code=204)

    def statuses(self, tracking_no: str) -> list[str]:
        return [data["status"] for _, data in self.reports if data["tracking_no"] == tracking_no]


@contextlib.asynccontextmanager
async def couriers(tmp_path: Path, webhook_port: int, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = couriers_settings(
        tmp_path, port=free_port(), webhook_base_url=f"http://127.0.0.1:{webhook_port}", **overrides
    )
    async with running_couriers(settings) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


def test_refuses_to_start_unless_allowed() -> None:
    with pytest.raises(SimulatorNotAllowedError):
        create_app(CouriersSimSettings(allowed=False))


async def test_booking_is_authenticated_and_idempotent(tmp_path: Path) -> None:
    async with couriers(tmp_path, free_port(), report=False) as client:
        assert (await client.post("/sim-post/v1/waybills", json=waybill())).status_code == 401
        wrong = {"authorization": f"Bearer {DEVELOPMENT_API_KEYS['sim-express']}"}
        headers = {"idempotency-key": "APP-1:outbound:1"}
        assert (await client.post("/sim-post/v1/waybills", json=waybill(), headers=wrong | headers)).status_code == 401
        assert (await client.post("/sim-post/v1/waybills", json=waybill(), headers=KEY)).status_code == 400
        assert (await client.post("/nobody/v1/waybills", json=waybill(), headers=KEY | headers)).status_code == 404
        first = await client.post("/sim-post/v1/waybills", json=waybill(), headers=KEY | headers)
        assert first.status_code == 201 and first.json()["tracking_no"].startswith("SP")
        # A customer whose transaction rolled back books again under the same key: the same parcel.
        again = await client.post("/sim-post/v1/waybills", json=waybill(), headers=KEY | headers)
        assert again.status_code == 200 and again.json()["tracking_no"] == first.json()["tracking_no"]
        other = await client.post(
            "/sim-post/v1/waybills", json=waybill(attempt=2), headers=KEY | {"idempotency-key": "APP-1:outbound:2"}
        )
        assert other.status_code == 201 and other.json()["tracking_no"] != first.json()["tracking_no"]
        # Cancelled before pickup (twice is still cancelled); an unknown waybill is a 404.
        tracking_no = first.json()["tracking_no"]
        for _ in range(2):
            cancelled = await client.post(f"/sim-post/v1/waybills/{tracking_no}/cancel", headers=KEY)
            assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert (await client.post("/sim-post/v1/waybills/SP0/cancel", headers=KEY)).status_code == 404


async def test_journeys_are_signed_in_order_and_cancel_comes_too_late_after_pickup(tmp_path: Path) -> None:
    receiver, port = Receiver(), free_port()
    async with serving(receiver.app, port), couriers(tmp_path, port) as client:
        numbers = {}
        plans = (("1 Main St", 1), ("2 Main St SIM-FAIL", 1), ("3 sim-fail-once", 1), ("3 SIM-FAIL-ONCE", 2))
        for detail, attempt in plans:
            booked = await client.post(
                "/sim-post/v1/waybills",
                json=waybill(detail, attempt),
                headers=KEY | {"idempotency-key": f"{detail}:{attempt}"},
            )
            numbers[(detail, attempt)] = booked.json()["tracking_no"]

        async def all_final() -> bool:
            return all(len(receiver.statuses(n)) == 3 for n in numbers.values())

        await eventually(all_final, timeout=15)
        assert receiver.statuses(numbers[("1 Main St", 1)]) == ["picked_up", "in_transit", "delivered"]
        assert receiver.statuses(numbers[("2 Main St SIM-FAIL", 1)]) == ["picked_up", "in_transit", "failed"]
        assert receiver.statuses(numbers[("3 sim-fail-once", 1)]) == ["picked_up", "in_transit", "failed"]
        assert receiver.statuses(numbers[("3 SIM-FAIL-ONCE", 2)]) == ["picked_up", "in_transit", "delivered"]
        # Fixed webhook ids: parcel and place in the plan, so a resend is recognisably a replay.
        first = numbers[("1 Main St", 1)]
        ids = [webhook_id for webhook_id, data in receiver.reports if data["tracking_no"] == first]
        assert ids == [f"msg_sim-post_{first}_{i}" for i in range(3)]
        failed = [d for _, d in receiver.reports if d["status"] == "failed"]
        assert failed and all(d["reason"] == "recipient not reached (simulated)" for d in failed)
        late = await client.post(f"/sim-post/v1/waybills/{first}/cancel", headers=KEY)
        assert late.status_code == 409 and late.json()["code"] == "already_picked_up"
        state = await client.get(f"/sim-post/v1/waybills/{first}", headers=KEY)
        assert state.json()["status"] == "delivered" and state.json()["state"] == "done"


async def test_reports_wait_for_an_absent_gateway_and_survive_a_restart(tmp_path: Path) -> None:
    receiver, port = Receiver(), free_port()
    # Nobody listens on the webhook port yet: the first report is retried, kept in the book.
    async with couriers(tmp_path, port, max_backoff_seconds=0.2) as client:
        booked = await client.post(
            "/sim-express/v1/waybills",
            json=waybill(),
            headers={"authorization": f"Bearer {DEVELOPMENT_API_KEYS['sim-express']}", "idempotency-key": "k1"},
        )
        tracking_no = booked.json()["tracking_no"]
        express = {"authorization": f"Bearer {DEVELOPMENT_API_KEYS['sim-express']}"}

        async def retried() -> bool:
            state = (await client.get(f"/sim-express/v1/waybills/{tracking_no}", headers=express)).json()
            return bool(state["state"] == "open" and state["status"] == "created" and state["attempts"] >= 2)

        await eventually(retried, timeout=5)
    # A new process on the same book, and the gateway back: the journey resumes from its start.
    async with serving(receiver.app, port), couriers(tmp_path, port, max_backoff_seconds=0.2):

        async def delivered() -> bool:
            return receiver.statuses(tracking_no) == ["picked_up", "in_transit", "delivered"]

        await eventually(delivered, timeout=15)
