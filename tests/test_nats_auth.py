"""NATS users in Kubernetes (issue 17, hole 9): each component publishes only its own events and
reads only the streams it consumes, through its own durable consumers.

A real nats-server runs with JetStream and the generated authorization block
(deploy/base/config/nats-auth.conf, from tools/nats_auth.py). As each component's user, the
kernel's own parts do their whole job: Bus.ensure_streams, the outbox relay publishing, the
durable consumers creating, pulling and acking. Everything else is refused by the server.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from hypothesis import find
from hypothesis import strategies as st
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.bus import Bus
from owkernel.consumer import ConsumerGroup, ConsumerOptions, ConsumerRunner, durable_name
from owkernel.contracts import PRODUCERS, REGISTRY, Envelope, EventData
from owkernel.db import Database, new_metadata
from owkernel.outbox import Outbox, OutboxRelay
from owkernel.tables import KernelTables, kernel_tables
from owtest import eventually, free_port, fresh_database_url, nats_server_binary, wait_for_port
from tools.catalogue import consumer_groups
from tools.nats_auth import AUTH_CONF, render, users

pytestmark = pytest.mark.xdist_group("nats-auth")

PASSWORDS = {u.user: f"pw-{u.user}-{uuid.uuid4().hex}" for u in users()}


def test_the_committed_config_is_current() -> None:
    """deploy/base/config/nats-auth.conf is exactly what the generator makes from today's code."""
    assert AUTH_CONF.read_text(encoding="utf-8") == render(), "run `python -m tools.nats_auth`"
    assert "include ./nats-auth.conf" in (AUTH_CONF.parent / "nats.conf").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def secured_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A nats-server with JetStream and the committed authorization block; passwords from its
    environment, as in the StatefulSet."""
    tmp = tmp_path_factory.mktemp("nats-auth")
    port = free_port()
    (tmp / "nats-auth.conf").write_text(AUTH_CONF.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp / "nats.conf").write_text(
        f'listen: "127.0.0.1:{port}"\njetstream {{ store_dir: "{tmp / "js"}" }}\ninclude ./nats-auth.conf\n',
        encoding="utf-8",
    )
    env = os.environ | {u.password_env: PASSWORDS[u.user] for u in users()}
    with open(tmp / "nats-server.log", "wb") as log:
        process = subprocess.Popen(
            [nats_server_binary(), "-c", str(tmp / "nats.conf")], env=env, stdout=log, stderr=log
        )
    try:
        wait_for_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Connection:
    """A plain client as one user, with the errors the server sent it."""

    nc: Client
    errors: list[str]

    async def refused(self, what: str, kind: str = "publish") -> bool:
        """Whether the server reported a permission violation for ``kind`` (publish or
        subscription) to ``what``."""
        await self.nc.flush(timeout=2)

        async def reported() -> bool:
            # nats-py reports the server's -ERR in lower case.
            return any(f'permissions violation for {kind} to "{what.lower()}"' in e.lower() for e in self.errors)

        try:
            return bool(await eventually(reported, timeout=3))
        except AssertionError:
            return False


@pytest.fixture
async def connect(secured_nats: str) -> AsyncIterator[Any]:
    opened: list[Client] = []

    async def as_user(user: str, password: str | None = None) -> Connection:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc = await nats.connect(
            secured_nats,
            user=user,
            password=password or PASSWORDS[user],
            inbox_prefix=Bus.inbox_prefix(user),
            error_cb=on_error,
            allow_reconnect=False,
        )
        opened.append(nc)
        return Connection(nc, errors)

    yield as_user
    for nc in opened:
        await nc.close()


def sample(subject: str) -> EventData:
    """A valid event of the contract (the simplest one hypothesis finds)."""
    model = REGISTRY[subject].model
    found: EventData = find(st.builds(model), lambda _: True)
    return found


@dataclass
class Component:
    """One component's kernel parts, connected as its own NATS user."""

    name: str
    bus: Bus
    db: Database
    tables: KernelTables
    relay: OutboxRelay
    runner: ConsumerRunner | None
    handled: list[str]


async def test_each_component_does_its_whole_job_as_its_own_user(
    secured_nats: str, tmp_path: Path, connect: Any
) -> None:
    groups = consumer_groups()
    consumed = {name: sorted(g.subjects_by_producer()) for name, g in groups.items()}
    assert any(consumed.values()), "no component consumes anything: the test would prove nothing"
    components: dict[str, Component] = {}
    try:
        for name in PRODUCERS:
            bus = Bus(secured_nats, name=name, user=name, password=PASSWORDS[name])
            await bus.connect()
            # The kernel's own start-up: as a user, only the component's own stream.
            await bus.ensure_streams()
            db = Database(fresh_database_url(f"nats_auth_{name}", tmp_path))
            tables = kernel_tables(new_metadata())
            async with db.engine.begin() as conn:
                await conn.run_sync(tables.outbox.metadata.create_all)
            relay = OutboxRelay(db, bus, tables, service=name, poll_seconds=0.2)
            relay.start()
            handled: list[str] = []

            async def record(session: AsyncSession, data: Any, envelope: Envelope, into: list[str] = handled) -> None:
                into.append(envelope.type)

            # The component's real durables: the same service name and the same handled subjects.
            group = ConsumerGroup(service=name)
            for subject in groups[name].handlers:
                group.on(REGISTRY[subject].model)(record)
            runner = None
            if group.handlers:
                runner = ConsumerRunner(
                    group, db=db, bus=bus, tables=tables, options=ConsumerOptions(batch=16, fetch_timeout=1.0)
                )
                runner.start()
            components[name] = Component(name, bus, db, tables, relay, runner, handled)

        # Each producer publishes, through its outbox, every event of its that someone consumes.
        expected: dict[str, set[str]] = {name: set(groups[name].handlers) for name in PRODUCERS}
        for name, c in components.items():
            mine = sorted({s for handled in expected.values() for s in handled if REGISTRY[s].producer == name})
            if not mine:
                continue
            outbox = Outbox(c.tables, source=name)
            async with c.db.transaction() as session:
                await outbox.add_many(session, [sample(s) for s in mine])

        for name, c in components.items():

            async def all_handled(c: Component = c, name: str = name) -> bool:
                return set(c.handled) == expected[name]

            await eventually(all_handled, timeout=20)
            # ...and acknowledged: the consumer's own user may read its durable's state.
            for producer in consumed[name]:
                stream = c.bus.stream_name(producer)

                async def acked(
                    c: Component = c, stream: str = stream, durable: str = durable_name(name, producer)
                ) -> bool:
                    info = await c.bus.js.consumer_info(stream, durable)
                    return bool(info.num_ack_pending == 0 and info.num_pending == 0)

                await eventually(acked, timeout=10)
        for name, c in components.items():
            async with c.db.transaction() as session:
                unsent = await session.scalar(
                    select(func.count()).select_from(c.tables.outbox).where(c.tables.outbox.c.sent_at.is_(None))
                )
            assert unsent == 0, f"{name}: events left in the outbox"

        # A component cannot reconfigure another's stream (which could make it store forged events).
        intake = await connect("intake")
        with pytest.raises((NatsTimeout, asyncio.TimeoutError)):
            await intake.nc.jetstream(timeout=1).update_stream(name="GATEWAY", subjects=["gateway.>", "intake.x"])
        assert await intake.refused("$JS.API.STREAM.UPDATE.GATEWAY")
    finally:
        for c in components.values():
            if c.runner is not None:
                await c.runner.stop()
            await c.relay.stop()
            await c.bus.close()
            await c.db.dispose()


async def test_only_the_gateway_may_say_a_payment_succeeded(secured_nats: str, connect: Any) -> None:
    gateway = await connect("gateway")
    js = gateway.nc.jetstream()
    bus = Bus(secured_nats, name="gateway", user="gateway", password=PASSWORDS["gateway"])
    await bus.connect()
    try:
        await bus.ensure_streams()
    finally:
        await bus.close()
    before = (await js.stream_info("GATEWAY")).state.messages

    intake = await connect("intake")
    await intake.nc.publish("gateway.payment.succeeded", b'{"forged": true}')
    assert await intake.refused("gateway.payment.succeeded")
    with pytest.raises((NatsTimeout, asyncio.TimeoutError)):
        await intake.nc.jetstream(timeout=1).publish("gateway.payment.succeeded", b"{}")
    assert (await js.stream_info("GATEWAY")).state.messages == before

    ack = await js.publish("gateway.payment.succeeded", b"{}", headers={"Nats-Msg-Id": uuid.uuid4().hex})
    assert ack.stream == "GATEWAY"
    assert (await js.stream_info("GATEWAY")).state.messages == before + 1
    # Even the gateway publishes only the events of its contract.
    await gateway.nc.publish("gateway.anything.else", b"{}")
    assert await gateway.refused("gateway.anything.else")


async def test_a_component_reads_only_what_it_consumes(connect: Any) -> None:
    groups = consumer_groups()
    reader = next(n for n in PRODUCERS if groups[n].handlers)
    reads = set(groups[reader].subjects_by_producer())
    other = next(p for p in PRODUCERS if p not in reads and p != reader)
    me = await connect(reader)

    # No plain subscription to events, its own streams' or others'.
    for subject in (f"{other}.>", f"{next(iter(reads))}.>", ">"):
        await me.nc.subscribe(subject)
        assert await me.refused(subject, "subscription"), subject
    # No one else's replies or deliveries.
    for inbox in ("_INBOX.>", f"_INBOX.{other}.>"):
        await me.nc.subscribe(inbox)
        assert await me.refused(inbox, "subscription"), inbox
    # No durable on a stream it does not consume, nor under another component's name.
    stolen = durable_name(other, next(iter(reads)))
    for api in (
        f"$JS.API.CONSUMER.DURABLE.CREATE.{other.upper()}.{durable_name(reader, other)}",
        f"$JS.API.CONSUMER.CREATE.{other.upper()}.{durable_name(reader, other)}",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{next(iter(reads)).upper()}.{stolen}",
        f"$JS.API.CONSUMER.MSG.NEXT.{next(iter(reads)).upper()}.{stolen}",
        f"$JS.ACK.{next(iter(reads)).upper()}.{stolen}.1.1.1.1.0",
        f"$JS.API.STREAM.DELETE.{other.upper()}",
        f"$JS.API.STREAM.PURGE.{next(iter(reads)).upper()}",
        f"$JS.API.STREAM.MSG.DELETE.{next(iter(reads)).upper()}",
    ):
        await me.nc.publish(api, b"{}")
        assert await me.refused(api), api


async def test_anonymous_and_wrong_passwords_are_refused(secured_nats: str) -> None:
    for credentials in (
        {},
        {"user": "intake", "password": "not-it"},
        {"user": "intake", "password": PASSWORDS["gateway"]},
    ):
        with pytest.raises(nats.errors.Error, match=r"(?i)authorization violation"):
            await nats.connect(secured_nats, allow_reconnect=False, **credentials)
