"""The online payment stub: order, cashier, signed callback, events, replay, forgery, expiry."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.db import tables
from gateway.payments import signing
from gateway.tests.harness import Stack, running_stack
from owkernel.contracts import decode
from owtest import bearer, eventually, fresh_database_url


def _application(stack: Stack, applicant: str, *, fee: int = 2500, status: str = "unpaid") -> str:
    no = "SQ" + uuid.uuid4().hex[:12].upper()
    stack.upstream.applications[no] = {"applicant": applicant, "fee_fen": fee, "payment_status": status}
    return no


async def _events(stack: Stack, payment_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Events about one payment the gateway staged in its outbox (published by the relay)."""
    async with stack.app.state.kernel.db.transaction() as session:
        rows = (await session.execute(select(tables.outbox.c.payload, tables.outbox.c.sent_at))).all()
    out = []
    for payload, _ in rows:
        envelope, data = decode(payload)
        if getattr(data, "payment_id", None) == payment_id:
            out.append((envelope.type, data.model_dump(mode="json")))
    return out


async def _published(stack: Stack, payment_id: str) -> bool:
    async with stack.app.state.kernel.db.transaction() as session:
        rows = (await session.execute(select(tables.outbox.c.payload, tables.outbox.c.sent_at))).all()
    return any(sent is not None and payment_id in payload.decode() for payload, sent in rows)


def _callback(
    stack: Stack, body: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = timestamp if timestamp is not None else int(time.time())
    key = secret or stack.settings.payment_secret.get_secret_value()
    headers = {
        "Content-Type": "application/json",
        signing.TIMESTAMP_HEADER: str(ts),
        signing.SIGNATURE_HEADER: signing.signature(key, ts, raw),
    }
    return raw, headers


async def test_happy_path_through_the_cashier(stack: Stack) -> None:
    number, tokens = await stack.verified_citizen()
    no = _application(stack, number, fee=2500)
    headers = bearer(tokens["access_token"]) | {"Idempotency-Key": "pay-1"}
    r = await stack.client.post("/api/v1/payments", json={"application_no": no}, headers=headers)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending" and order["amount_fen"] == 2500
    assert order["pay_url"] == f"/pay/{order['payment_id']}"
    again = await stack.client.post("/api/v1/payments", json={"application_no": no}, headers=headers)
    assert again.json() == order and again.headers["idempotent-replayed"] == "true"
    without_key = await stack.client.post(
        "/api/v1/payments", json={"application_no": no}, headers=bearer(tokens["access_token"])
    )
    assert without_key.status_code == 200 and without_key.json()["payment_id"] == order["payment_id"]

    page = await stack.client.get(order["pay_url"])
    assert page.status_code == 200 and "¥25.00" in page.text and 'method="post"' in page.text
    # Bilingual, Chinese first, the amount in yuan (no "fen"), the application and a way back to it.
    assert "收银台" in page.text and page.text.index("收银台") < page.text.index("Cashier")
    assert "fen" not in page.text and "元" in page.text
    assert no in page.text and f'href="/#/applications/{no}"' in page.text
    assert "待支付" in page.text and "Awaiting payment" in page.text
    # The pay button cannot be framed, and only the page's own style (by its hash) may apply.
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy and "unsafe" not in policy
    style = page.text.split("<style>")[1].split("</style>")[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    paid = await stack.client.post(order["pay_url"], data={"outcome": "pay"})
    assert paid.status_code == 303 and paid.headers["location"] == order["pay_url"]
    done = (await stack.client.get(order["pay_url"])).text
    assert "已支付" in done and "paid" in done and 'method="post"' not in done

    view = await stack.client.get(f"/api/v1/payments/{order['payment_id']}", headers=bearer(tokens["access_token"]))
    assert view.json()["status"] == "paid" and view.json()["paid_at"]
    events = await _events(stack, order["payment_id"])
    assert [t for t, _ in events] == ["gateway.payment.succeeded"]
    assert events[0][1] | {"paid_at": None} == {
        "payment_id": order["payment_id"],
        "application_no": no,
        "amount_fen": 2500,
        "paid_at": None,
    }
    await eventually(lambda: _published(stack, order["payment_id"]))  # the relay put it on NATS

    # who may see it: the payer and staff; not another citizen, not anonymous
    _, other = await stack.verified_citizen()
    path = f"/api/v1/payments/{order['payment_id']}"
    assert (await stack.client.get(path, headers=bearer(other["access_token"]))).status_code == 403
    assert (await stack.client.get(path)).status_code == 401
    assert (await stack.client.get(path, headers=bearer(await stack.staff("finance")))).status_code == 200
    assert (
        await stack.client.get("/api/v1/payments/pay_nope", headers=bearer(other["access_token"]))
    ).status_code == 404

    # paid (here, and by intake's view) means nothing more to pay
    r = await stack.client.post("/api/v1/payments", json={"application_no": no}, headers=bearer(tokens["access_token"]))
    assert r.status_code == 409


async def test_nothing_to_pay_and_unknown_or_foreign_applications(stack: Stack) -> None:
    number, tokens = await stack.verified_citizen()
    auth = bearer(tokens["access_token"])
    free = _application(stack, number, fee=0, status="not_required")
    assert (await stack.client.post("/api/v1/payments", json={"application_no": free}, headers=auth)).status_code == 409
    done = _application(stack, number, status="paid")
    assert (await stack.client.post("/api/v1/payments", json={"application_no": done}, headers=auth)).status_code == 409
    assert (
        await stack.client.post("/api/v1/payments", json={"application_no": "SQNOSUCH"}, headers=auth)
    ).status_code == 404
    foreign = _application(stack, "110101199003070000")
    assert (
        await stack.client.post("/api/v1/payments", json={"application_no": foreign}, headers=auth)
    ).status_code == 403
    assert (await stack.client.post("/api/v1/payments", json={"application_no": free})).status_code == 401
    assert (await stack.client.post("/api/v1/payments", json={"nope": 1}, headers=auth)).status_code == 422


async def _pending(stack: Stack, fee: int = 990) -> dict[str, Any]:
    number, tokens = await stack.verified_citizen()
    no = _application(stack, number, fee=fee)
    r = await stack.client.post("/api/v1/payments", json={"application_no": no}, headers=bearer(tokens["access_token"]))
    assert r.status_code == 201
    body: dict[str, Any] = r.json() | {"token": tokens["access_token"]}
    return body


def _note(order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "notification_id": uuid.uuid4().hex,
        "payment_id": order["payment_id"],
        "amount_fen": order["amount_fen"],
        "status": "success",
        "at": datetime.now(UTC).isoformat(),
    } | overrides


async def _status(stack: Stack, order: dict[str, Any]) -> str:
    r = await stack.client.get(f"/api/v1/payments/{order['payment_id']}", headers=bearer(order["token"]))
    return str(r.json()["status"])


async def test_forged_stale_and_wrong_amount_callbacks_change_nothing(stack: Stack) -> None:
    order = await _pending(stack)
    raw, headers = _callback(stack, _note(order), secret="not-the-secret")
    r = await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    raw, headers = _callback(stack, _note(order), timestamp=int(time.time()) - 3600)
    assert (await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)).status_code == 401
    raw, headers = _callback(stack, _note(order))
    tampered = raw.replace(b'"success"', b'"failed"')
    assert (await stack.client.post("/api/v1/payments/callback", content=tampered, headers=headers)).status_code == 401
    unsigned = await stack.client.post("/api/v1/payments/callback", json=_note(order))
    assert unsigned.status_code == 401
    raw, headers = _callback(stack, _note(order, amount_fen=1))
    wrong = await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert wrong.status_code == 422
    raw, headers = _callback(stack, {"garbage": True})
    assert (await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)).status_code == 422
    assert await _status(stack, order) == "pending"
    assert await _events(stack, order["payment_id"]) == []


async def test_replayed_callback_changes_nothing(stack: Stack) -> None:
    order = await _pending(stack)
    raw, headers = _callback(stack, _note(order))
    first = await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert first.status_code == 200 and first.json()["result"] == "applied" and first.json()["status"] == "paid"
    replay = await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert replay.status_code == 200 and replay.json()["result"] == "duplicate"
    # a different notification for an order no longer pending is ignored too
    raw, headers = _callback(stack, _note(order, status="failed"))
    late = await stack.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert late.json()["result"] == "ignored" and late.json()["status"] == "paid"
    assert [t for t, _ in await _events(stack, order["payment_id"])] == ["gateway.payment.succeeded"]


async def test_failed_payment(stack: Stack) -> None:
    order = await _pending(stack)
    r = await stack.client.post(order["pay_url"], data={"outcome": "fail"})
    assert r.status_code == 303
    assert await _status(stack, order) == "failed"
    assert [t for t, _ in await _events(stack, order["payment_id"])] == ["gateway.payment.failed"]
    assert (await stack.client.get(order["pay_url"])).status_code == 200


@pytest.fixture(scope="module")
async def hasty(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("hasty")
    async with running_stack(
        database_url=fresh_database_url("gateway_hasty", tmp),
        upstream_database_url=fresh_database_url("upstream_hasty", tmp),
        nats_url=nats_url,
        payment_expiry_seconds=0.5,
    ) as running:
        yield running


async def test_unpaid_order_expires(hasty: Stack) -> None:
    order = await _pending(hasty)

    async def expired() -> bool:
        return await _status(hasty, order) == "expired"

    await eventually(expired, timeout=10)
    assert [t for t, _ in await _events(hasty, order["payment_id"])] == ["gateway.payment.expired"]
    # paying an expired order changes nothing
    raw, headers = _callback(hasty, _note(order))
    r = await hasty.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert r.json()["result"] == "ignored" and r.json()["status"] == "expired"


async def test_one_pending_order_per_application(stack: Stack) -> None:
    number, tokens = await stack.verified_citizen()
    no = _application(stack, number, fee=800)
    auth = bearer(tokens["access_token"])
    replies = await asyncio.gather(
        *(stack.client.post("/api/v1/payments", json={"application_no": no}, headers=auth) for _ in range(6))
    )
    assert {r.status_code for r in replies} <= {200, 201, 409}
    ids = {r.json()["payment_id"] for r in replies if r.status_code in (200, 201)}
    assert len(ids) == 1 and sum(r.status_code == 201 for r in replies) == 1
    # the fee changed while the order was pending: that order ends, a new one is made
    stack.upstream.applications[no]["fee_fen"] = 900
    r = await stack.client.post("/api/v1/payments", json={"application_no": no}, headers=auth)
    assert r.status_code == 201 and r.json()["amount_fen"] == 900 and r.json()["payment_id"] not in ids
    (old,) = ids
    assert [t for t, _ in await _events(stack, old)] == ["gateway.payment.expired"]


@pytest.fixture(scope="module")
async def no_cashier(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The gateway as the prod overlay runs it: no stub cashier, a real provider's pay page."""
    tmp = tmp_path_factory.mktemp("no_cashier")
    async with running_stack(
        database_url=fresh_database_url("gateway_no_cashier", tmp),
        upstream_database_url=fresh_database_url("upstream_no_cashier", tmp),
        nats_url=nats_url,
        stub_cashier=False,
        payment_pay_url="https://pay.example.org/checkout?order={payment_id}",
    ) as running:
        yield running


async def test_the_stub_cashier_can_be_turned_off(no_cashier: Stack) -> None:
    order = await _pending(no_cashier)
    stub = f"/pay/{order['payment_id']}"
    page = await no_cashier.client.get(stub)
    assert page.status_code == 404 and page.headers["content-type"] == "application/problem+json"
    paid = await no_cashier.client.post(stub, data={"outcome": "pay"})
    assert paid.status_code == 404 and paid.headers["content-type"] == "application/problem+json"
    assert (await no_cashier.client.post(stub, data={"outcome": "fail"})).status_code == 404
    assert await _status(no_cashier, order) == "pending"
    assert await _events(no_cashier, order["payment_id"]) == []
    # The order keeps the contract's shape; the payer is sent to the provider's own page.
    assert order["status"] == "pending"
    assert order["pay_url"] == f"https://pay.example.org/checkout?order={order['payment_id']}"
    # The provider's signed callback still settles the order.
    raw, headers = _callback(no_cashier, _note(order))
    r = await no_cashier.client.post("/api/v1/payments/callback", content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "paid"


async def test_payment_times_carry_an_offset(stack: Stack) -> None:
    order = await _pending(stack)
    paid = await stack.client.post(order["pay_url"], data={"outcome": "pay"})
    assert paid.status_code == 303
    view = await stack.client.get(f"/api/v1/payments/{order['payment_id']}", headers=bearer(order["token"]))
    assert view.status_code == 200 and view.json()["status"] == "paid"
    for field in ("created_at", "expires_at", "paid_at"):
        assert datetime.fromisoformat(view.json()[field]).utcoffset() is not None, view.json()


async def test_a_self_declared_account_is_refused_payments(stack: Stack) -> None:
    """A typed-in number proves nothing: its holder may not pay for, or read, what is bound to it."""
    number, tokens = await stack.citizen()
    no = _application(stack, number)
    headers = bearer(tokens["access_token"])
    created = await stack.client.post("/api/v1/payments", json={"application_no": no}, headers=headers)
    assert created.status_code == 403, created.text
    assert created.json()["type"].endswith("identity-not-verified")
    # The verified holder of another number pays; the self-declared one still cannot read it.
    payer_number, payer = await stack.verified_citizen()
    theirs = _application(stack, payer_number)
    order = await stack.client.post(
        "/api/v1/payments", json={"application_no": theirs}, headers=bearer(payer["access_token"])
    )
    assert order.status_code == 201, order.text
    read = await stack.client.get(f"/api/v1/payments/{order.json()['payment_id']}", headers=headers)
    assert read.status_code == 403 and read.json()["type"].endswith("identity-not-verified")
