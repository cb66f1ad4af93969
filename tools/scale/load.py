"""A running load of applications through the gateway replicas, and a record of what clients saw.

Citizens apply (create with an ``Idempotency-Key``, upload the material, submit), a clerk
accepts, an approver decides, couriers deliver; each application is followed to ``completed``.
The clients are well-behaved ones: a 503 with ``Retry-After`` is waited out and sent again, a
refused connection to one gateway replica goes to the other (what the load balancer in front of
the gateways does). Every answer is recorded, so the run can assert that nothing but a 503 with
``Retry-After`` ever came back as a server error, and can say how long requests waited.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from owtest import resident_id

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
MAIL = {
    "method": "mail",
    "address": {
        "region_code": "370602001001",
        "detail": "芝罘区南大街1号",
        "recipient": "压测",
        "phone": "13800000000",
    },
}
STAFF_PASSWORD = "Scale-Pass-123!"
# A state-changing call met with 409 after a retry has already been applied by the first attempt.
TRANSITIONS_DONE = 409


def once() -> dict[str, str]:
    """An ``Idempotency-Key`` for one state-changing call: a create answers its repeat with the
    first answer, a transition with 409, so the gateway may send it to another replica when the
    first one broke the connection before answering."""
    return {"Idempotency-Key": uuid.uuid4().hex}


def resendable(method: str, kw: dict[str, Any]) -> bool:
    """Whether a request may be sent again after its connection broke without an answer."""
    return method in ("GET", "HEAD", "PUT", "DELETE") or "Idempotency-Key" in (kw.get("headers") or {})


class ClientError(Exception):
    """A request failed in a way a client cannot simply retry (recorded in ``Seen.bad``)."""


@dataclass
class Seen:
    """Everything the clients saw: statuses, the server errors that were not retryable, waits."""

    statuses: Counter[int] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    unavailable: int = 0  # 503 with Retry-After, waited out and retried
    failovers: int = 0  # connections refused by one gateway replica, sent to the other
    resent: int = 0  # connections a replica closed before answering a request safe to resend
    # (started at, seconds) of every request, for "how long requests waited" around an event.
    timings: list[tuple[float, float]] = field(default_factory=list)

    def waited(self, start: float, end: float) -> float:
        """The longest a request that started between ``start`` and ``end`` took (seconds)."""
        return max((s for t, s in self.timings if start <= t <= end), default=0.0)


class Gateways:
    """The gateway replicas behind one round-robin client-side balancer."""

    def __init__(self, urls: list[str], seen: Seen, *, deadline: float = 90.0) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
        self.clients = [httpx.AsyncClient(base_url=u, timeout=30.0, limits=limits, trust_env=False) for u in urls]
        self.turn = itertools.count()
        self.seen = seen
        self.deadline = deadline

    async def aclose(self) -> None:
        """Close every client."""
        await asyncio.gather(*(c.aclose() for c in self.clients))

    async def call(self, method: str, path: str, want: tuple[int, ...] = (200, 201), **kw: Any) -> httpx.Response:
        """Send until an answer that is not a 503-with-Retry-After comes; raise on anything unwanted."""
        give_up = time.monotonic() + self.deadline
        while True:
            client = self.clients[next(self.turn) % len(self.clients)]
            started = time.monotonic()
            try:
                response = await client.request(method, path, **kw)
            except httpx.ConnectError:
                # This gateway replica is away (rolling, or killed): the balancer sends elsewhere.
                self.seen.failovers += 1
                await asyncio.sleep(0.05)
                if time.monotonic() > give_up:
                    raise
                continue
            except httpx.TransportError as exc:
                # A replica going down closes its idle keep-alive connections; one a request was
                # just sent on breaks with no answer. As the gateway's own balancer does
                # (gateway/door/upstreams.py), a client resends a request that is safe to repeat:
                # idempotent by its method (RFC 9110 9.2.2) or carrying an Idempotency-Key.
                if resendable(method, kw) and time.monotonic() < give_up:
                    self.seen.resent += 1
                    await asyncio.sleep(0.05)
                    continue
                self.seen.bad.append(f"{method} {path}: {type(exc).__name__} {exc}")
                raise ClientError(f"{method} {path}: {exc!r}") from exc
            self.seen.timings.append((started, time.monotonic() - started))
            self.seen.statuses[response.status_code] += 1
            if response.status_code == 503 and "retry-after" in response.headers and time.monotonic() < give_up:
                self.seen.unavailable += 1
                await asyncio.sleep(min(float(response.headers["retry-after"]), 1.0))
                continue
            if response.status_code >= 500:
                self.seen.bad.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            if response.status_code not in want:
                raise ClientError(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return response


@dataclass
class Actors:
    """Who acts in the load: an item of its own department, a clerk, an approver, citizens."""

    item_code: str
    clerk: dict[str, str]
    approver: dict[str, str]
    citizens: list[dict[str, str]]


async def _login(gw: Gateways, account: str, password: str) -> dict[str, str]:
    r = await gw.call("POST", "/api/v1/auth/login", (200,), json={"account": account, "password": password})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def prepare(gw: Gateways, admin_password: str, citizens: int) -> Actors:
    """An item, a clerk, an approver of its department and verified citizens, through the API."""
    admin = await _login(gw, "admin", admin_password)
    suffix = uuid.uuid4().hex[:6].upper()
    dept, code = f"SCALE{suffix[:4]}", f"SCALE-{suffix}"
    item = {
        "code": code,
        "name": "扩容演练事项",
        "kind": "licensing",
        "department": dept,
        "window": "general",
        "legal_days": 10,
        "committed_days": 5,
        "trips": 0,
        "online": True,
        "fee_fen": 0,
        "materials": [{"code": "M1", "name": "申请表", "critical": True}],
    }
    await gw.call("POST", "/api/v1/catalog/items", (200, 201), headers=admin, json=item)
    for username, role, department in ((f"clerk{suffix}", "clerk", None), (f"appr{suffix}", "approver", dept)):
        body: dict[str, Any] = {"username": username, "password": STAFF_PASSWORD, "name": username, "roles": [role]}
        if department:
            body["department"] = department
        await gw.call("POST", "/api/v1/admin/staff", (200, 201), headers=admin, json=body)
    clerk = await _login(gw, f"clerk{suffix}", STAFF_PASSWORD)
    approver = await _login(gw, f"appr{suffix}", STAFF_PASSWORD)
    people = []
    for i in range(citizens):
        number = resident_id()
        r = await gw.call(
            "POST", "/api/v1/auth/verifications", headers=clerk, json={"id_number": number, "name": f"压测{i}"}
        )
        code_body = {"id_number": number, "activation_code": r.json()["activation_code"], "password": STAFF_PASSWORD}
        r = await gw.call("POST", "/api/v1/auth/activate", (200,), json=code_body)
        people.append({"Authorization": f"Bearer {r.json()['access_token']}"})
    return Actors(code, clerk, approver, people)


@dataclass
class Load:
    """Citizens applying in closed loops until ``stop`` is set; an approver deciding; a watcher."""

    gw: Gateways
    actors: Actors
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    started: dict[str, float] = field(default_factory=dict)
    completed: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    async def apply_once(self, me: dict[str, str]) -> None:
        """One application from create to accepted (the rest happens through events)."""
        gw, clerk = self.gw, self.actors.clerk
        t0 = time.monotonic()
        r = await gw.call(
            "POST",
            "/api/v1/applications",
            headers=me | once(),
            json={"item_code": self.actors.item_code, "delivery": MAIL},
        )
        no = r.json()["application_no"]
        self.started[no] = t0
        files = {"file": ("M1.pdf", PDF, "application/pdf")}
        await gw.call("PUT", f"/api/v1/applications/{no}/materials/M1", headers=me, files=files)
        await gw.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, TRANSITIONS_DONE), headers=me | once())
        decision = {"decision": "accept", "deferred_materials": [], "reason": ""}
        await gw.call(
            "POST",
            f"/api/v1/applications/{no}/acceptance",
            (200, 201, TRANSITIONS_DONE),
            headers=clerk | once(),
            json=decision,
        )

    async def citizen(self, me: dict[str, str]) -> None:
        """Apply again as soon as the last application is accepted, until told to stop."""
        while not self.stop.is_set():
            try:
                await self.apply_once(me)
            except ClientError as exc:
                self.failures.append(str(exc))
                await asyncio.sleep(0.2)

    async def approve(self, until: asyncio.Event) -> None:
        """Decide every open task of the item's department until ``until`` is set."""
        while not until.is_set():
            try:
                r = await self.gw.call(
                    "GET", "/api/v1/tasks", headers=self.actors.approver, params={"status": "open", "limit": 200}
                )
                items = r.json()["items"]
                await asyncio.gather(*(self._decide(t["task_id"]) for t in items))
            except ClientError as exc:
                self.failures.append(str(exc))
                items = []
            if not items:
                await asyncio.sleep(0.1)

    async def _decide(self, task_id: str) -> None:
        body = {"decision": "approve", "opinion": "同意"}
        await self.gw.call(
            "POST",
            f"/api/v1/tasks/{task_id}/decision",
            (200, 201, TRANSITIONS_DONE),
            headers=self.actors.approver | once(),
            json=body,
        )

    async def watch(self, until: asyncio.Event) -> None:
        """Note when each application is seen completed (newest first, one list call at a time)."""
        while not until.is_set():
            try:
                params: dict[str, Any] = {"status": "completed", "item_code": self.actors.item_code, "limit": 200}
                while True:
                    r = await self.gw.call("GET", "/api/v1/applications", headers=self.actors.clerk, params=params)
                    now = time.monotonic()
                    page = r.json()
                    for row in page["items"]:
                        self.completed.setdefault(row["application_no"], now)
                    if not page.get("next_cursor"):
                        break
                    params["cursor"] = page["next_cursor"]
            except ClientError as exc:
                self.failures.append(str(exc))
            await asyncio.sleep(0.3)

    def all_completed(self) -> bool:
        """True when every started application has been seen completed."""
        return all(no in self.completed for no in self.started)
