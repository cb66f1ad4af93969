"""A parcel's journey: which statuses a carrier reports, and the loop that posts them.

Each report is a Standard Webhook signed with the carrier's secret and a webhook id fixed by the
parcel and the report's place in its plan, so a report sent twice (an answer lost on the way
back, a restart between sending and writing it down) is a replay the receiver recognises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import structlog
from standardwebhooks.webhooks import Webhook

from simulators.couriers.settings import CouriersSimSettings
from simulators.couriers.store import Parcel, Store

log = structlog.get_logger("couriers.journey")

NORMAL_PLAN = ("picked_up", "in_transit", "delivered")
FAILING_PLAN = ("picked_up", "in_transit", "failed")
# Demo switches written into the street address: the carrier fails this parcel.
FAIL_ALWAYS = "SIM-FAIL"
FAIL_FIRST_ATTEMPT = "SIM-FAIL-ONCE"
FAILURE_REASON = "recipient not reached (simulated)"


def plan_for(*, address_detail: str, attempt: int) -> tuple[str, ...]:
    """The statuses a carrier will report for a parcel."""
    detail = address_detail.upper()
    if FAIL_FIRST_ATTEMPT in detail:
        return FAILING_PLAN if attempt == 1 else NORMAL_PLAN
    if FAIL_ALWAYS in detail:
        return FAILING_PLAN
    return NORMAL_PLAN


def signed_report(parcel: Parcel, *, secret: str, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers of a parcel's next report."""
    status = parcel.plan[parcel.next_index]
    body: dict[str, str] = {"tracking_no": parcel.tracking_no, "status": status, "at": now.isoformat()}
    if status == "failed":
        body["reason"] = FAILURE_REASON
    payload = json.dumps(body, separators=(",", ":"))
    webhook_id = f"msg_{parcel.carrier}_{parcel.tracking_no}_{parcel.next_index}"
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=now, data=payload)
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return payload.encode(), headers


@dataclass
class Dispatcher:
    """The carriers' side of every journey: posts due reports, one pace apart, retrying."""

    store: Store
    http: aiohttp.ClientSession
    settings: CouriersSimSettings
    # Parcels whose report is on the way now: a cancellation must not overtake it.
    sending: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A parcel was booked: look at once instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Work the book forever."""
        log.info("couriers.started", delay_seconds=self.settings.delay_seconds, url=self.settings.webhook_base_url)
        while True:
            if await self.tick():
                continue  # something was due: look again at once (a zero pace chains reports)
            next_due = await self.store.next_due_at()
            timeout = self.settings.poll_seconds
            if next_due is not None:
                timeout = min(timeout, max(0.0, next_due - time.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()

    async def tick(self) -> int:
        """Send one round of due reports and write down how each went; return how many."""
        due = await self.store.due(now=time.time(), limit=self.settings.batch)
        if not due:
            return 0
        self.sending.update(p.tracking_no for p in due)
        try:
            errors = await asyncio.gather(*(self._send(parcel) for parcel in due))
            now = time.time()
            await self.store.record([(p, e, self._next_due(p, e, now)) for p, e in zip(due, errors, strict=True)])
        finally:
            self.sending.difference_update(p.tracking_no for p in due)
        return len(due)

    def _next_due(self, parcel: Parcel, error: str | None, now: float) -> float:
        if error is None:
            return now + self.settings.delay_seconds
        attempts = parcel.attempts + 1
        if attempts >= self.settings.max_attempts:
            log.error("couriers.gave_up", carrier=parcel.carrier, tracking_no=parcel.tracking_no, error=error)
            return -1.0
        log.warning("couriers.call_failed", carrier=parcel.carrier, tracking_no=parcel.tracking_no, error=error)
        return now + min(0.25 * 2.0**attempts, self.settings.max_backoff_seconds)

    async def _send(self, parcel: Parcel) -> str | None:
        url = f"{self.settings.webhook_base_url.rstrip('/')}/api/v1/webhooks/couriers/{parcel.carrier}"
        try:
            secret = self.settings.signing_secret(parcel.carrier)
            body, headers = signed_report(parcel, secret=secret, now=datetime.now(UTC))
            async with self.http.post(url, data=body, headers=headers, allow_redirects=False) as response:
                answer = await response.read()
        except Exception as exc:  # noqa: BLE001 - the gateway may be away: try again later
            return repr(exc)
        if response.status >= 300:
            return f"HTTP {response.status}: {answer.decode(errors='replace')[:300]}"
        return None
