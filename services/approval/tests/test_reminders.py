"""Reminders: a signed push when a task turns yellow and when it turns red, retried with back-off
when the receiver fails (every attempt recorded), and a daily digest per department. The push
receiver is a real HTTP server on a local port."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from owtest import SigningKeys, eventually, free_port
from services.approval.jobs import daily_digests
from services.approval.reminders.repository import insert_many
from services.approval.tests.harness import Approval, accepted, at, running_approval


@dataclass
class Receiver:
    """A push gateway that fails its first ``failures`` requests."""

    failures: int
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = 503 if len(self.received) < self.failures else 200
        self.received.append((dict(request.headers), body, status))
        return web.Response(status=status, text="busy" if status == 503 else "ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that answers 503 twice, then 200."""
    got = Receiver(failures=2)
    app = web.Application()
    app.router.add_post("/push", got.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    got.url = f"http://127.0.0.1:{port}/push"
    try:
        yield got
    finally:
        await runner.cleanup()


async def notifications(approval: Approval, **params: Any) -> list[dict[str, Any]]:
    r = await approval.client.get("/api/v1/supervision/notifications", params=params, headers=approval.supervisor())
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_reminders_are_signed_and_retried_until_the_receiver_takes_them(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, receiver: Receiver
) -> None:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    async with running_approval(
        database_url=database_url,
        nats_url=nats_url,
        namespace=namespace,
        keys=signing_keys,
        start=at(date(2026, 11, 2)),
        notify_adapter="webhook",
        notify_webhook_url=receiver.url,
        notify_webhook_secret=secret,
        notify_backoff_seconds=0.1,
    ) as approval:
        await approval.publish(accepted("R-1", departments=["LAND"], accepted_at=at(date(2026, 11, 2))))
        [task] = await approval.open_tasks("LAND", "R-1")
        approval.clock.set(date(2026, 11, 6))
        assert (await approval.scan())["yellow"] == 2  # the task and the application

        async def delivered() -> list[dict[str, Any]]:
            return [n for n in await notifications(approval, status="sent") if n["kind"] == "task_yellow"]

        [yellow] = await eventually(delivered)
        assert yellow["task_id"] == task["task_id"] and yellow["department"] == "LAND"
        assert yellow["attempts"] == 3
        assert [(a["attempt"], a["ok"], a["status_code"]) for a in yellow["history"]] == [
            (1, False, 503),
            (2, False, 503),
            (3, True, 200),
        ]
        assert all(a["adapter"] == "webhook" for a in yellow["history"])
        # Back-off: the second retry waited longer than the first.
        times = [a["at"] for a in yellow["history"]]
        assert times[0] < times[1] < times[2]
        assert len(receiver.received) == 3
        ids = {headers["webhook-id"] for headers, _, _ in receiver.received}
        assert len(ids) == 1, "every retry carries the same message id"
        for headers, body, _ in receiver.received:
            payload = Webhook(secret).verify(body, headers)
            assert payload["type"] == "task_yellow" and payload["task_id"] == task["task_id"]
            assert payload["due_date"] == "2026-11-09" and payload["department"] == "LAND"
        forged = dict(receiver.received[0][0]) | {"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}
        with pytest.raises(Exception, match="signature"):
            Webhook(secret).verify(receiver.received[0][1], forged)

        approval.clock.set(date(2026, 11, 10))
        assert (await approval.scan())["red"] == 2

        async def red_delivered() -> list[dict[str, Any]]:
            return [n for n in await notifications(approval, status="sent") if n["kind"] == "task_red"]

        [red] = await eventually(red_delivered)
        assert red["attempts"] == 1 and red["payload"]["card"] == "red"
        assert len(receiver.received) == 4


async def test_a_reminder_is_given_up_after_its_last_attempt(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys
) -> None:
    async with running_approval(
        database_url=database_url,
        nats_url=nats_url,
        namespace=namespace,
        keys=signing_keys,
        start=at(date(2026, 11, 2)),
        notify_adapter="webhook",
        notify_webhook_url=f"http://127.0.0.1:{free_port()}/nobody-listens",
        notify_webhook_secret="whsec_" + base64.b64encode(b"k" * 24).decode(),
        notify_max_attempts=3,
        notify_backoff_seconds=0.05,
    ) as approval:
        await approval.publish(
            accepted("R-2", departments=["LAND"], committed_days=1, accepted_at=at(date(2026, 11, 2)))
        )
        await approval.open_tasks("LAND", "R-2")
        assert (await approval.scan())["yellow"] == 2

        async def failed() -> list[dict[str, Any]]:
            return await notifications(approval, status="failed")

        [gave_up] = await eventually(failed)
        assert gave_up["attempts"] == 3 and len(gave_up["history"]) == 3
        assert not any(a["ok"] for a in gave_up["history"]) and gave_up["last_error"]


async def test_daily_digest_once_a_day_per_department(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys
) -> None:
    async with running_approval(
        database_url=database_url,
        nats_url=nats_url,
        namespace=namespace,
        keys=signing_keys,
        start=at(date(2026, 11, 2), 7),
        digest_check_seconds=0.05,
        digest_hour=8,
    ) as approval:
        await approval.publish(accepted("D-1", departments=["LAND", "PLAN"], accepted_at=at(date(2026, 11, 2), 7)))
        await approval.publish(accepted("D-2", departments=["LAND"], accepted_at=at(date(2026, 11, 2), 7)))
        await approval.open_tasks("PLAN", "D-1")
        await approval.open_tasks("LAND", "D-2")
        assert [n for n in await notifications(approval) if n["kind"] == "digest"] == []  # before 08:00
        approval.clock.set(date(2026, 11, 3), 8)

        async def digests() -> list[dict[str, Any]]:
            found = [n for n in await notifications(approval, status="sent") if n["kind"] == "digest"]
            return found if len(found) == 2 else []

        sent = {n["department"]: n for n in await eventually(digests)}
        assert sent["LAND"]["payload"]["open_tasks"] == 2 and sent["PLAN"]["payload"]["open_tasks"] == 1
        assert sent["LAND"]["payload"]["date"] == "2026-11-03"
        assert [a["adapter"] for a in sent["LAND"]["history"]] == ["log"]
        assert len(sent["LAND"]["payload"]["most_urgent"]) == 2
        approval.clock.set(date(2026, 11, 3), 17)
        for _ in range(3):  # several digest checks later in the same day: still one each
            await daily_digests(approval.kernel)
        assert len([n for n in await notifications(approval) if n["kind"] == "digest"]) == 2
        # A second replica that checked before this one's digests committed writes the same keys:
        # skipped, not a failed transaction.
        now = datetime.now(UTC)
        racing = {
            "dedupe_key": "digest:LAND:2026-11-03",
            "kind": "digest",
            "department": "LAND",
            "task_id": None,
            "application_no": None,
            "payload": {"date": "2026-11-03"},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        async with approval.svc.app.state.kernel.db.transaction() as session:
            await insert_many(session, [racing])
        assert len([n for n in await notifications(approval) if n["kind"] == "digest"]) == 2
        approval.clock.set(date(2026, 11, 4), 9)

        async def next_day() -> list[dict[str, Any]]:
            found = [n for n in await notifications(approval) if n["kind"] == "digest"]
            return found if len(found) == 4 else []

        assert {n["payload"]["date"] for n in await eventually(next_day)} == {"2026-11-03", "2026-11-04"}
