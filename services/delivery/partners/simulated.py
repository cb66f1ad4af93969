"""The simulated courier partners of the local run and the tests.

``SimulatedCourier`` is a partner adapter: booking a waybill queues the parcel's status reports
in delivery's database, in the caller's transaction. ``run_simulator`` is a background task of
the delivery process playing the couriers' side: it posts each report, signed with the
carrier's Standard Webhooks secret, to the public webhook URL (through the gateway), one pace
apart. The queue is a table, so a restart resumes; each report has a fixed webhook id, so a
report sent twice (lost answer, two workers) is a replay that changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets as random_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import Database
from services.delivery.partners import repository
from services.delivery.partners.adapter import CourierAdapter, Waybill, WaybillRequest
from services.delivery.partners.models import SimCourierJob
from services.delivery.partners.secrets import CourierSecrets

log = structlog.get_logger("delivery.simulator")

NORMAL_PLAN = ("picked_up", "in_transit", "delivered")
FAILING_PLAN = ("picked_up", "in_transit", "failed")
# Demo switches written into the street address: the simulated courier fails this parcel.
FAIL_ALWAYS = "SIM-FAIL"
FAIL_FIRST_ATTEMPT = "SIM-FAIL-ONCE"
CLAIM_SECONDS = 30.0
MAX_CALL_ATTEMPTS = 20


def plan_for(request: WaybillRequest) -> tuple[str, ...]:
    """The statuses the simulated courier will report for a parcel."""
    detail = request.address_detail.upper()
    if FAIL_FIRST_ATTEMPT in detail:
        return FAILING_PLAN if request.attempt == 1 else NORMAL_PLAN
    if FAIL_ALWAYS in detail:
        return FAILING_PLAN
    return NORMAL_PLAN


class SimulatedCourier:
    """A partner adapter whose courier is the in-process simulator."""

    def __init__(self, carrier: str, prefix: str) -> None:
        self.carrier = carrier
        self.prefix = prefix

    async def create_waybill(self, session: AsyncSession, request: WaybillRequest) -> Waybill:
        """Book the parcel: a tracking number, and its reports queued for the simulator."""
        tracking_no = f"{self.prefix}{random_secrets.randbelow(10**12):012d}"
        session.add(
            SimCourierJob(
                carrier=self.carrier,
                tracking_no=tracking_no,
                plan=",".join(plan_for(request)),
                next_index=0,
                due_at=datetime.now(UTC),
                attempts=0,
                done=False,
            )
        )
        await session.flush()
        return Waybill(tracking_no=tracking_no)

    async def cancel(self, session: AsyncSession, tracking_no: str) -> bool:
        """Cancel if the courier has reported nothing yet (it has not picked the parcel up)."""
        job = await repository.sim_job(session, carrier=self.carrier, tracking_no=tracking_no)
        if job is None or job.next_index > 0:
            return False
        job.done = True
        job.last_error = "cancelled by the sender"
        return True


ADAPTERS: dict[str, CourierAdapter] = {
    "sim-express": SimulatedCourier("sim-express", "SE"),
    "sim-post": SimulatedCourier("sim-post", "SP"),
}


def adapter_for(carrier: str) -> CourierAdapter:
    """The adapter of a partner under contract."""
    return ADAPTERS[carrier]


@dataclass(frozen=True)
class _Claimed:
    id: int
    carrier: str
    tracking_no: str
    status: str
    index: int
    last: bool


@dataclass
class Simulator:
    """The couriers' side: posts due status reports to our public webhook URL."""

    db: Database
    http: httpx.AsyncClient
    secrets: CourierSecrets
    webhook_base_url: str
    delay_seconds: float
    poll_seconds: float = 0.5
    batch: int = 100

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        # A waybill is booked in a transaction that also stages ShipmentCreated, whose commit
        # runs the database's commit hooks: the couriers start at once instead of at the next poll.
        self.db.on_commit(self._wake.set)

    async def run(self) -> None:
        """Work the queue forever."""
        log.info("simulator.started", delay_seconds=self.delay_seconds, webhook_base_url=self.webhook_base_url)
        while True:
            if await self.tick():
                continue  # something was due: look again at once (a zero pace chains reports)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def tick(self) -> int:
        """Claim and send one batch of due reports; return how many were tried."""
        claimed = await self._claim()
        if claimed:
            await asyncio.gather(*(self._send(job) for job in claimed))
        return len(claimed)

    async def _claim(self) -> Sequence[_Claimed]:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            # Held for a while: another worker (or the next tick) leaves it alone.
            jobs = await repository.claim_due_sim_jobs(
                session, now=now, hold_until=now + timedelta(seconds=CLAIM_SECONDS), limit=self.batch
            )
            out = []
            finished = []
            for job in jobs:
                plan = job.plan.split(",")
                if job.next_index >= len(plan):
                    finished.append(job.id)
                    continue
                out.append(
                    _Claimed(
                        id=job.id,
                        carrier=job.carrier,
                        tracking_no=job.tracking_no,
                        status=plan[job.next_index],
                        index=job.next_index,
                        last=job.next_index == len(plan) - 1,
                    )
                )
            await repository.finish_sim_jobs(session, finished)
            return out

    def _signed(self, job: _Claimed) -> tuple[str, dict[str, str]]:
        now = datetime.now(UTC)
        body: dict[str, str] = {"tracking_no": job.tracking_no, "status": job.status, "at": now.isoformat()}
        if job.status == "failed":
            body["reason"] = "recipient not reached (simulated)"
        payload = json.dumps(body, separators=(",", ":"))
        webhook_id = f"msg_{job.carrier}_{job.tracking_no}_{job.index}"
        signature = self.secrets.signer(job.carrier).sign(msg_id=webhook_id, timestamp=now, data=payload)
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        return payload, headers

    async def _send(self, job: _Claimed) -> None:
        url = f"{self.webhook_base_url.rstrip('/')}/api/v1/webhooks/couriers/{job.carrier}"
        error: str | None = None
        try:
            payload, headers = self._signed(job)
            response = await self.http.post(url, content=payload.encode(), headers=headers)
            if response.status_code >= 300:
                error = f"HTTP {response.status_code}: {response.text[:300]}"
        except Exception as exc:  # noqa: BLE001 - the webhook endpoint may be down: retry later
            error = repr(exc)
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            if error is None:
                await repository.advance_sim_job(
                    session,
                    job_id=job.id,
                    next_index=job.index + 1,
                    done=job.last,
                    due_at=now + timedelta(seconds=self.delay_seconds),
                )
                return
            row = await repository.sim_job_by_id(session, job.id)
            row.attempts += 1
            row.last_error = error[:2000]
            row.due_at = now + timedelta(seconds=min(0.5 * 2**row.attempts, 30.0))
            if row.attempts >= MAX_CALL_ATTEMPTS:
                row.done = True
                log.error("simulator.gave_up", carrier=job.carrier, tracking_no=job.tracking_no, error=error)
            else:
                log.warning("simulator.call_failed", carrier=job.carrier, tracking_no=job.tracking_no, error=error)
