"""``/ops/dead-letters``: list what a service's consumers gave up on and replay it once fixed,
on a real database, through the service app's HTTP; a replay never applies an event twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import ConsumerGroup, create_service_app, kernel_tables, new_metadata
from owkernel.contracts import Envelope, encode, make_envelope
from owkernel.contracts.intake import ApplicationSubmitted
from owkernel.db import Database
from owkernel.settings import ServiceSettings
from owtest import SigningKeys, wait_ready
from owtest.backbone import submitted

metadata: MetaData = new_metadata()
tables = kernel_tables(metadata)
applied = Table("applied", metadata, Column("application_no", String(40), primary_key=True))
CONSUMER = "opstest-from-intake"


class Switch:
    """The "release" of the handler: broken until the test fixes it."""

    broken = True


group = ConsumerGroup(service="opstest")


@group.on(ApplicationSubmitted)
async def on_submitted(session: AsyncSession, data: ApplicationSubmitted, envelope: Envelope) -> None:
    if Switch.broken:
        raise ValueError("the handler's bug")
    # A primary key: a second application of the same event would fail the test loudly.
    await session.execute(insert(applied).values(application_no=data.application_no))


@pytest.fixture
async def ops(database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys) -> AsyncIterator[Any]:
    Switch.broken = True
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    settings = ServiceSettings(
        service_name="opstest", database_url=database_url, nats_url=nats_url, nats_namespace=namespace, log_json=False
    )
    app = create_service_app(
        settings=settings,
        tables=tables,
        routers=[],
        consumers=group,
        title="ops test",
        verifier=signing_keys.verifier(),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await wait_ready(client)
        yield client, db
    await db.dispose()


async def park(db: Database, payload: bytes, event_id: str | None) -> int:
    """A dead letter as the consumer writes it after the last delivery."""
    async with db.transaction() as session:
        result = await session.execute(
            insert(tables.dead_letters)
            .values(
                consumer=CONSUMER,
                event_id=event_id,
                subject="intake.application.submitted",
                payload=payload,
                error='ValueError("the handler\'s bug")',
                deliveries=8,
                created_at=datetime.now(UTC),
            )
            .returning(tables.dead_letters.c.id)
        )
        return int(result.scalar_one())


async def applied_count(db: Database, no: str) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).where(applied.c.application_no == no))).scalar_one())


async def test_list_and_replay_dead_letters(ops: Any, signing_keys: SigningKeys) -> None:
    client, db = ops
    admin = {"Authorization": f"Bearer {signing_keys.staff('ops', 'admin')}"}
    clerk = {"Authorization": f"Bearer {signing_keys.staff('c1', 'clerk')}"}

    fixable = make_envelope(submitted("DL-1"), source="intake")
    fixable_id = await park(db, encode(fixable), fixable.id)
    handled_meanwhile = make_envelope(submitted("DL-2"), source="intake")
    meanwhile_id = await park(db, encode(handled_meanwhile), handled_meanwhile.id)
    async with db.transaction() as session:  # re-published by hand and handled before the replay
        await session.execute(
            insert(tables.inbox).values(
                consumer=CONSUMER,
                event_id=handled_meanwhile.id,
                subject="intake.application.submitted",
                handled_at=datetime.now(UTC),
            )
        )
    garbage_id = await park(db, b"{not json", None)

    assert (await client.get("/ops/dead-letters")).status_code == 401
    assert (await client.get("/ops/dead-letters", headers=clerk)).status_code == 403
    first = await client.get("/ops/dead-letters", params={"limit": 2}, headers=admin)
    assert first.status_code == 200
    assert [d["id"] for d in first.json()["items"]] == [fixable_id, meanwhile_id]
    assert first.json()["items"][0]["event_id"] == fixable.id and "payload" not in first.json()["items"][0]
    rest = await client.get("/ops/dead-letters", params={"cursor": first.json()["next_cursor"]}, headers=admin)
    assert [d["id"] for d in rest.json()["items"]] == [garbage_id] and rest.json()["next_cursor"] is None
    bad_cursor = await client.get("/ops/dead-letters", params={"cursor": "WyJ4Il0"}, headers=admin)
    assert bad_cursor.status_code == 422
    true_cursor = await client.get("/ops/dead-letters", params={"cursor": "W3RydWVd"}, headers=admin)  # [true]
    assert true_cursor.status_code == 422, "a boolean is not a row id"

    # Still broken: 409 problem+json, the letter stays with the new error, nothing applied.
    again = await client.post(f"/ops/dead-letters/{fixable_id}/replay", headers=admin)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert "failed again" in again.json()["detail"]
    listed = (await client.get("/ops/dead-letters", headers=admin)).json()["items"]
    [kept] = [d for d in listed if d["id"] == fixable_id]
    assert kept["error"].startswith("replay by ops:") and kept["deliveries"] == 9
    assert await applied_count(db, "DL-1") == 0

    # The release is fixed: the replay applies it once, and the letter is gone.
    Switch.broken = False
    assert (await client.post(f"/ops/dead-letters/{fixable_id}/replay", headers=clerk)).status_code == 403
    done = await client.post(f"/ops/dead-letters/{fixable_id}/replay", headers=admin)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "id": fixable_id,
        "event_id": fixable.id,
        "subject": "intake.application.submitted",
        "outcome": "handled",
    }
    assert await applied_count(db, "DL-1") == 1
    gone = await client.post(f"/ops/dead-letters/{fixable_id}/replay", headers=admin)
    assert gone.status_code == 404 and await applied_count(db, "DL-1") == 1

    # Handled meanwhile: the inbox says so, the handler does not run, the letter is cleared.
    skipped = await client.post(f"/ops/dead-letters/{meanwhile_id}/replay", headers=admin)
    assert skipped.status_code == 200 and skipped.json()["outcome"] == "already handled"
    assert await applied_count(db, "DL-2") == 0

    # What this release cannot read stays parked, with a 409 saying why.
    unreadable = await client.post(f"/ops/dead-letters/{garbage_id}/replay", headers=admin)
    assert unreadable.status_code == 409 and "cannot be decoded" in unreadable.json()["detail"]
    left = (await client.get("/ops/dead-letters", headers=admin)).json()["items"]
    assert [d["id"] for d in left] == [garbage_id]
    assert (await client.post("/ops/dead-letters/not-a-number/replay", headers=admin)).status_code == 422


async def test_dead_letters_of_either_wire_form_replay(ops: Any, signing_keys: SigningKeys) -> None:
    """Letters parked before the move to CloudEvents hold the bare envelope; they replay as the
    CloudEvents ones do, and the inbox (by event id, the same in both forms) still guards them."""
    client, db = ops
    admin = {"Authorization": f"Bearer {signing_keys.staff('ops', 'admin')}"}
    old = make_envelope(submitted("DL-OLD"), source="intake")
    old_id = await park(db, encode(old, form="envelope"), old.id)
    new = make_envelope(submitted("DL-CE"), source="intake")
    new_id = await park(db, encode(new), new.id)
    Switch.broken = False

    for letter_id, event_id in ((old_id, old.id), (new_id, new.id)):
        done = await client.post(f"/ops/dead-letters/{letter_id}/replay", headers=admin)
        assert done.status_code == 200, done.text
        assert done.json()["outcome"] == "handled" and done.json()["event_id"] == event_id
    assert await applied_count(db, "DL-OLD") == 1 and await applied_count(db, "DL-CE") == 1
    # The same old event parked again as a CloudEvent (a producer re-sent it after its upgrade).
    again_id = await park(db, encode(old), old.id)
    skipped = await client.post(f"/ops/dead-letters/{again_id}/replay", headers=admin)
    assert skipped.status_code == 200 and skipped.json()["outcome"] == "already handled"
    assert await applied_count(db, "DL-OLD") == 1


async def test_parking_the_same_event_twice_updates_its_letter(database_url: str) -> None:
    """Redelivered (replayed from the stream, published again) and failed again: the second
    parking takes the new error, deliveries and time instead of breaking the unique key, which
    failed the consumer's whole batch and had it redelivered for ever."""
    from owkernel.deadletters import park as park_letter

    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    stamp = datetime.now(UTC).timestamp()
    consumer, event_id = f"parktest-{stamp}", f"evt-{stamp}"
    letters = tables.dead_letters
    try:
        for deliveries, error in ((8, "first failure"), (3, "second failure")):
            async with db.transaction() as session, session.begin_nested():
                # In a savepoint, as the consumer parks inside its batch's transaction.
                await park_letter(
                    session,
                    tables,
                    consumer=consumer,
                    event_id=event_id,
                    subject="intake.application.submitted",
                    payload=b"{}",
                    error=error,
                    deliveries=deliveries,
                )
        for _ in range(2):  # an undecodable message has no id: each is its own letter
            async with db.transaction() as session:
                await park_letter(
                    session,
                    tables,
                    consumer=consumer,
                    event_id=None,
                    subject="intake.application.submitted",
                    payload=b"garbage",
                    error="undecodable",
                    deliveries=1,
                )
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(letters.c.event_id, letters.c.error, letters.c.deliveries).where(
                        letters.c.consumer == consumer
                    )
                )
            ).all()
        assert [(r.error, r.deliveries) for r in rows if r.event_id == event_id] == [("second failure", 3)]
        assert len([r for r in rows if r.event_id is None]) == 2
    finally:
        await db.dispose()
