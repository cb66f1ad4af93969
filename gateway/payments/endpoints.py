"""Payment API, the provider's callback, and the stub cashier page (``/pay/{payment_id}``)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from gateway.db import tables
from gateway.payments import repository, service, signing
from gateway.payments.models import Payment
from gateway.payments.schemas import CallbackOut, PaymentIn, PaymentOut, ProviderNotification
from gateway.settings import GatewaySettings
from gateway.state import StateDep
from owkernel.app import KernelDep, SessionDep
from owkernel.auth import VerifiedPrincipal
from owkernel.errors import Forbidden, NotFound, Unprocessable
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.logs import current_request_id

router = APIRouter(tags=["payments"])
cashier = APIRouter(include_in_schema=False)
idempotency = Idempotency(tables)


def cashier_path(payment_id: str) -> str:
    """The stub cashier's page for one order (its form posts back to the same path)."""
    return f"/pay/{payment_id}"


def _out(payment: Payment, settings: GatewaySettings) -> PaymentOut:
    return PaymentOut(
        payment_id=payment.id,
        application_no=payment.application_no,
        amount_fen=payment.amount_fen,
        status=payment.status,
        pay_url=settings.payment_pay_url.format(payment_id=payment.id),
        created_at=payment.created_at,
        expires_at=payment.expires_at,
        paid_at=payment.paid_at,
        failure_reason=payment.failure_reason,
    )


@router.post("/api/v1/payments", status_code=201, response_model=PaymentOut, responses={200: {"model": PaymentOut}})
async def create_payment(
    body: PaymentIn,
    request: Request,
    principal: VerifiedPrincipal,
    session: SessionDep,
    kernel: KernelDep,
    state: StateDep,
    key: IdempotencyKey = None,
) -> Any:
    """A payment order for an application's fee (an order already pending is returned with 200)."""
    fingerprint = request_hash("POST /api/v1/payments", body.model_dump_json())
    if key:
        # A short transaction of its own: no database lock is held while intake is asked.
        async with kernel.db.transaction() as check:
            replay = await idempotency.replay(check, owner=principal.subject_id, key=key, fingerprint=fingerprint)
        if replay is not None:
            return replay
    view = await service.application_view(
        kernel.http,
        intake_url=state.settings.upstreams()["intake"],
        application_no=body.application_no,
        authorization=request.headers["authorization"],
        request_id=current_request_id(),
    )
    payment, created = await service.create_payment(
        session,
        application_no=body.application_no,
        view=view,
        principal=principal,
        expiry_seconds=state.settings.payment_expiry_seconds,
    )
    out = _out(payment, state.settings).model_dump(mode="json")
    status = 201 if created else 200
    await idempotency.remember(
        session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=status, body=out
    )
    return JSONResponse(out, status_code=status)


@router.post("/api/v1/payments/callback", response_model=CallbackOut, responses={401: {}, 422: {}})
async def provider_callback(request: Request, session: SessionDep, state: StateDep) -> CallbackOut:
    """The payment provider's signed notification; a replay changes nothing."""
    raw = await request.body()
    signing.verify(
        state.settings.payment_secret.get_secret_value(),
        timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
        signature_value=request.headers.get(signing.SIGNATURE_HEADER),
        body=raw,
        tolerance=state.settings.payment_callback_tolerance_seconds,
    )
    try:
        note = ProviderNotification.model_validate_json(raw)
    except ValueError:
        raise Unprocessable("The notification is not valid.") from None
    result, payment = await service.apply_notification(session, note=note)
    return CallbackOut(result=result, payment_id=payment.id, status=payment.status)


@router.get("/api/v1/payments/{payment_id}", response_model=PaymentOut)
async def get_payment(
    payment_id: str, principal: VerifiedPrincipal, session: SessionDep, state: StateDep
) -> PaymentOut:
    """A payment order, for its payer and for staff."""
    payment = await repository.get(session, payment_id)
    if payment is None:
        raise NotFound("There is no such payment.")
    if not service.may_see(payment, principal):
        raise Forbidden("This payment is not yours.")
    return _out(payment, state.settings)


# --- the stub cashier and provider --------------------------------------------------------------

STYLE = (
    "body{font-family:sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.6}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}dd{margin:0}"
    ".en{color:#555;font-size:.9em}button{font-size:1.1rem;margin:0 1rem .5rem 0}"
)
# The page's one inline style is allowed by its hash; nothing else may load, run or frame it
# (a framed pay button is a clickjacking target).
PAGE_POLICY = (
    f"default-src 'none'; style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# A payer reads Chinese first; the English beside it is for visitors and for the API's users.
STATUS_WORDS = {
    "pending": ("待支付", "Awaiting payment"),
    "paid": ("已支付", "Paid: the fee has been paid"),
    "failed": ("支付未成功", "Not paid: the payment failed or was cancelled"),
    "expired": ("订单已过期", "Expired: start the payment again from the application"),
}
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>收银台（模拟） · Cashier (stub) - OneWindow</title>
<style>{style}</style>
</head><body><main>
<h1>收银台（模拟） <span class="en" lang="en">Cashier (stub)</span></h1>
<dl>
<dt>申请编号 <span class="en" lang="en">Application</span></dt><dd><b>{application_no}</b></dd>
<dt>应缴金额 <span class="en" lang="en">Amount</span></dt>
<dd><b>¥{yuan}</b> 元 <span class="en" lang="en">yuan</span></dd>
<dt>支付状态 <span class="en" lang="en">Status</span></dt>
<dd><b id="status" data-status="{status}">{status_zh}</b> <span class="en" lang="en">{status_en}</span></dd>
</dl>
{form}
<p><a href="{back}">返回申请详情 <span class="en" lang="en">Back to the application</span></a></p>
</main></body></html>"""

FORM = """<form method="post" action="{action}">
<button name="outcome" value="pay" type="submit">支付 <span lang="en">Pay</span></button>
<button name="outcome" value="fail" type="submit">模拟支付失败 <span lang="en">Simulate a failure</span></button>
</form>"""


def console_path(application_no: str) -> str:
    """The application's page in the console the gateway serves at ``/``."""
    return f"/#/applications/{application_no}"


async def _load(kernel: Any, settings: GatewaySettings, payment_id: str) -> Payment:
    if not settings.stub_cashier:
        # Turned off (production): the pages do not exist, for any order id.
        raise NotFound("There is no such page.")
    async with kernel.db.transaction() as session:
        payment = await repository.get(session, payment_id)
    if payment is None:
        raise NotFound("There is no such payment.")
    return payment


@cashier.get("/pay/{payment_id}", response_class=HTMLResponse)
async def cashier_page(payment_id: str, kernel: KernelDep, state: StateDep) -> HTMLResponse:
    """The stub cashier page: the order and a pay button while it is pending."""
    payment = await _load(kernel, state.settings, payment_id)
    form = FORM.format(action=html.escape(cashier_path(payment.id))) if payment.status == "pending" else ""
    status_zh, status_en = STATUS_WORDS.get(payment.status, (payment.status, payment.status))
    return HTMLResponse(
        PAGE.format(
            application_no=html.escape(payment.application_no),
            yuan=f"{payment.amount_fen / 100:.2f}",
            status=html.escape(payment.status),
            status_zh=html.escape(status_zh),
            status_en=html.escape(status_en),
            back=html.escape(console_path(payment.application_no)),
            form=form,
            style=STYLE,
        ),
        headers={"Content-Security-Policy": PAGE_POLICY},
    )


@cashier.post("/pay/{payment_id}")
async def cashier_pay(
    payment_id: str,
    kernel: KernelDep,
    state: StateDep,
    outcome: Annotated[str, Form(pattern="^(pay|fail)$")] = "pay",
) -> Response:
    """The payer pressed a button: the stub provider sends its signed callback, then shows the page."""
    # No transaction is held across the callback: the callback writes to the same database.
    payment = await _load(kernel, state.settings, payment_id)
    if payment.status == "pending":
        body = json.dumps(
            {
                "notification_id": uuid.uuid4().hex,
                "payment_id": payment.id,
                "amount_fen": payment.amount_fen,
                "status": "success" if outcome == "pay" else "failed",
                "at": datetime.now(UTC).isoformat(),
                "reason": None if outcome == "pay" else "The payer cancelled at the cashier.",
            }
        ).encode()
        timestamp = int(time.time())
        secret = state.settings.payment_secret.get_secret_value()
        try:
            response = await kernel.http.post(
                state.settings.callback_url(),
                content=body,
                headers={
                    "Content-Type": "application/json",
                    signing.TIMESTAMP_HEADER: str(timestamp),
                    signing.SIGNATURE_HEADER: signing.signature(secret, timestamp, body),
                },
            )
            answered = response.status_code
        except httpx.HTTPError:
            answered = 0
        if answered != 200:
            return HTMLResponse(
                "<p>支付机构未能通知商户，请稍后再试。 The payment provider could not notify the merchant "
                f"({answered or 'unreachable'}).</p>",
                status_code=502,
            )
    return RedirectResponse(cashier_path(payment.id), status_code=303)
