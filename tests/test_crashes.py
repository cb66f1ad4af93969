"""Crashes without loss: under a running load, every service and the nats-server is killed with
SIGKILL and restarted; every application still ends in the right state, nothing is made twice,
every event is consumed (counted on JetStream) and every outbox drains."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from owkernel.consumer import ConsumerGroup
from owtest import TestEnvironment
from tests.e2e import ACCEPT_ALL, MAIL, PDF, Caller, admin, application, citizen, new_item, staff, wait_for
from tests.harness import ADMIN_PASSWORD, Platform
from tools.catalogue import consumer_groups
from tools.stack import COMPONENTS

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

# `make test-long` (ONEWINDOW_TEST_LONG=1): five rounds of kills with more applications made
# while each process is down; `make test` runs one round, to stay inside CI's time.
LONG = TestEnvironment().long
ROUNDS = 5 if LONG else 1
PER_KILL = 4 if LONG else 1


def retrying(caller: Caller, method: str, path: str, want: tuple[int, ...], **kw: Any) -> Any:
    """What a front end does while a service restarts: try again on 502/503/504 or no connection."""
    deadline = time.monotonic() + 60
    while True:
        try:
            r = caller.http.request(method, path, headers={"Authorization": f"Bearer {caller.token}"}, **kw)
            if r.status_code in want:
                return r.json() if "json" in r.headers.get("content-type", "") else r
            assert r.status_code in (502, 503, 504), f"{method} {path}: {r.status_code} {r.text[:300]}"
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{method} {path} kept failing"
        time.sleep(0.3)


def make_application(me: Caller, clerk: Caller, item: str) -> str:
    no: str = retrying(me, "POST", "/api/v1/applications", (201,), json={"item_code": item, "delivery": MAIL})[
        "application_no"
    ]
    retrying(
        me,
        "PUT",
        f"/api/v1/applications/{no}/materials/M1",
        (200, 201),
        files={"file": ("M1.pdf", PDF, "application/pdf")},
    )
    retrying(me, "POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    retrying(
        clerk,
        "POST",
        f"/api/v1/applications/{no}/acceptance",
        (200, 201),
        json=ACCEPT_ALL,
    )
    return no


def approve_forever(approver: Caller, stop: threading.Event) -> None:
    """The department keeps deciding whatever reaches it, as staff would through the day."""
    while not stop.is_set():
        try:
            tasks = approver.http.get(
                "/api/v1/tasks",
                params={"status": "open", "limit": 200},
                headers={"Authorization": f"Bearer {approver.token}"},
            )
            if tasks.status_code == 200:
                for task in tasks.json()["items"]:
                    approver.http.post(
                        f"/api/v1/tasks/{task['task_id']}/decision",
                        json={"decision": "approve", "opinion": "同意"},
                        headers={"Authorization": f"Bearer {approver.token}"},
                    )
        except httpx.TransportError:
            pass
        stop.wait(0.3)


async def consumers_caught_up(nats_url: str, namespace: str, groups: dict[str, ConsumerGroup]) -> list[str]:
    """Durables that still have events to deliver or to acknowledge (empty when all is consumed)."""
    from owkernel.bus import Bus

    bus = Bus(nats_url, name="crash-test", namespace=namespace)
    await bus.connect()
    behind = []
    try:
        for service, group in groups.items():
            for producer in group.subjects_by_producer():
                info = await bus.js.consumer_info(bus.stream_name(producer), f"{service}-from-{producer}")
                if info.num_pending or info.num_ack_pending:
                    behind.append(
                        f"{service}-from-{producer}: {info.num_pending} pending, {info.num_ack_pending} unacked"
                    )
    finally:
        await bus.close()
    return behind


def test_kill_every_process_under_load_loses_nothing(platform: Platform) -> None:
    url = platform.url
    stack = platform.stack
    root = admin(url, ADMIN_PASSWORD)
    dept = "CRASH" + uuid.uuid4().hex[:4].upper()
    item = new_item(root, department=dept, materials=[{"code": "M1", "name": "申请表", "critical": True}])
    clerk = staff(url, root, "clerk")
    approver = staff(url, root, "approver", dept)
    me, _ = citizen(url, clerk=clerk)
    stop = threading.Event()
    deciding = threading.Thread(target=approve_forever, args=(approver, stop), daemon=True)
    deciding.start()
    numbers: list[str] = []
    try:
        numbers += [make_application(me, clerk, item) for _ in range(4)]
        for _round in range(ROUNDS):
            for component in [c.name for c in COMPONENTS]:
                stack.kill(component)  # SIGKILL: no drain, no goodbye
                if component not in ("gateway", "intake"):
                    # Intake and the gateway still take applications while this service is down.
                    numbers += [make_application(me, clerk, item) for _ in range(PER_KILL)]
                stack.start(component)
                stack.wait_ready([component], timeout=60)
                # Tokens survive a gateway restart (its keys are kept), so nobody logs in again.
                numbers += [make_application(me, clerk, item) for _ in range(PER_KILL)]
            if stack.nats is not None:  # our own nats-server (not the machine's shared one)
                stack.nats.kill()
                # Committed while NATS is away: the outboxes keep them.
                numbers += [make_application(me, clerk, item) for _ in range(PER_KILL)]
                stack.nats.start()
        numbers += [make_application(me, clerk, item) for _ in range(3)]

        def all_completed() -> bool:
            # Completed (delivery's stream) and its certificate in the timeline (approval's):
            # intake reads the two streams apart, so after a kill either may come in first.
            return all(
                (view := application(me, no))["status"] == "completed"
                and any(e["event"] == "approval.certificate.issued" for e in view["timeline"])
                for no in numbers
            )

        wait_for("every application completed, its certificate noted", all_completed, 600 if LONG else 180)
    finally:
        stop.set()
        deciding.join(timeout=10)

    for no in numbers:
        view = application(me, no)
        issued = [e for e in view["timeline"] if e["event"] == "approval.certificate.issued"]
        assert len(issued) == 1, f"{no}: {len(issued)} certificates"
        shipments = me.call("GET", "/api/v1/shipments", 200, params={"application_no": no})["items"]
        assert len(shipments) == 1, f"{no}: {len(shipments)} shipments"

        def rated(no: str = no) -> bool:
            # Rating learns of the decision from its own (restarted) consumer: wait for it.
            r = me.http.post(
                "/api/v1/ratings",
                json={"application_no": no, "score": 4},
                headers={"Authorization": f"Bearer {me.token}"},
            )
            # 404/409 until rating has consumed the acceptance and the decision; then 201 once.
            assert r.status_code in (201, 404, 409), r.text
            return r.status_code == 201

        wait_for(f"{no} can be rated", rated, 30)
        me.call("POST", "/api/v1/ratings", 409, json={"application_no": no, "score": 4})

    groups = consumer_groups()
    assert stack.nats_url is not None

    behind: list[str] = []

    def caught_up() -> bool:
        behind[:] = asyncio.run(consumers_caught_up(stack.nats_url or "", stack.namespace, groups))
        return not behind

    try:
        wait_for("every durable consumer has consumed and acknowledged every event", caught_up, 60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still behind: {behind}") from None

    def outboxes_drained() -> bool:
        for c in COMPONENTS:
            text = httpx.get(f"{stack.url(c.name)}/metrics", timeout=5).text
            pattern = r'onewindow_outbox_pending\{service="' + c.name + r'"\} ([0-9.e+]+)'
            pending = re.search(pattern, text)
            if pending is None or float(pending.group(1)) != 0.0:
                return False
        return True

    wait_for("every outbox drained", outboxes_drained, 30)
