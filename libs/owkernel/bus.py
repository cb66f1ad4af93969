"""NATS JetStream connection: streams per producer, namespaced subjects, health.

The connection reconnects forever; while NATS is away the outbox keeps every event and the
consumers wait, so nothing is lost and no caller blocks on the broker.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from owkernel.contracts import PRODUCERS

log = structlog.get_logger("owkernel.bus")


class Bus:
    """One service's NATS connection and JetStream context."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        namespace: str = "",
        duplicate_window: float = 120.0,
        replicas: int = 1,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.user = user
        self._password = password
        self.namespace = namespace
        self.duplicate_window = duplicate_window
        self.replicas = replicas
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._streams_ready = False
        self._connect_lock = asyncio.Lock()

    # --- naming -----------------------------------------------------------------------------
    def wire_subject(self, subject: str) -> str:
        """The subject on the wire for a contract subject (namespace prefixed)."""
        return f"{self.namespace}.{subject}" if self.namespace else subject

    def contract_subject(self, wire: str) -> str:
        """Inverse of ``wire_subject``."""
        prefix = f"{self.namespace}."
        return wire[len(prefix) :] if self.namespace and wire.startswith(prefix) else wire

    def stream_name(self, producer: str) -> str:
        """The stream that holds one producer's events."""
        base = producer.upper()
        return f"{self.namespace.upper().replace('.', '_')}_{base}" if self.namespace else base

    @staticmethod
    def inbox_prefix(user: str | None) -> str:
        """Where replies to this connection go: a user's own inboxes, so that its NATS permissions
        can let it read its replies (and pulled events) and not another component's."""
        return f"_INBOX.{user}" if user else "_INBOX"

    # --- connection -------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the client has a live connection."""
        return self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> Client:
        """The core NATS client; raises if ``connect`` has not succeeded yet."""
        if self._nc is None:
            raise ConnectionError("not connected to NATS")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context; raises if ``connect`` has not succeeded yet."""
        if self._js is None:
            raise ConnectionError("not connected to NATS")
        return self._js

    @property
    def servers(self) -> list[str]:
        """The cluster's URLs: the setting may name several nodes, comma-separated.

        nats-py takes a list; a comma-separated string would be read as one (broken) URL. With
        several, a client that starts while one node is down still connects, and reconnects go
        to the others before the cluster's gossip has told it about them.
        """
        return [url.strip() for url in self.url.split(",") if url.strip()]

    async def connect(self, *, timeout: float = 5.0) -> None:
        """Connect once (idempotent); reconnects forever afterwards."""
        async with self._connect_lock:
            if self._nc is not None:
                return

            async def _disconnected() -> None:
                log.warning("nats.disconnected", url=self.url)

            async def _reconnected() -> None:
                log.info("nats.reconnected", url=self.url)

            async def _error(exc: Exception) -> None:
                log.warning("nats.error", error=str(exc))

            self._nc = await nats.connect(
                self.servers,
                name=self.name,
                user=self.user,
                password=self._password,
                inbox_prefix=self.inbox_prefix(self.user),
                connect_timeout=timeout,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
                disconnected_cb=_disconnected,
                reconnected_cb=_reconnected,
                error_cb=_error,
            )
            self._js = self._nc.jetstream()

    async def connect_in_background(self) -> None:
        """Keep trying to connect until it works (a service may start before NATS)."""
        delay = 0.2
        while self._nc is None:
            try:
                await self.connect()
            except Exception as exc:  # noqa: BLE001 - any failure here just means "try again"
                log.warning("nats.connect_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def ensure_streams(self, producers: tuple[str, ...] | None = None) -> None:
        """Create (or update) one stream per producer, idempotently, with a duplicate window.

        By default every stream on an open server (consumers attach whatever order components
        start in) and only the component's own as a NATS user: its permissions allow no other,
        since whoever may reconfigure a stream may make it store forged events.
        """
        if producers is None:
            producers = tuple(p for p in PRODUCERS if p == self.name) if self.user else PRODUCERS
        for producer in producers:
            config = StreamConfig(
                name=self.stream_name(producer),
                subjects=[self.wire_subject(f"{producer}.>")],
                storage=StorageType.FILE,
                retention=RetentionPolicy.LIMITS,
                duplicate_window=self.duplicate_window,
                max_age=30 * 24 * 3600.0,
                num_replicas=self.replicas,
            )
            try:
                await self.js.add_stream(config)
            except BadRequestError:
                # Exists with another config (e.g. a changed duplicate window): bring it in line.
                await self.js.update_stream(config)
        self._streams_ready = True

    async def ping(self) -> None:
        """Raise unless NATS answers a round trip now."""
        if self._nc is None or not self._nc.is_connected:
            raise ConnectionError("NATS is not connected")
        await self._nc.flush(timeout=2)

    async def delete_streams(self, producers: tuple[str, ...] = PRODUCERS) -> None:
        """Remove this namespace's streams (tests and `make clean` only)."""
        for producer in producers:
            with contextlib.suppress(NotFoundError):
                await self.js.delete_stream(self.stream_name(producer))

    async def close(self) -> None:
        """Drain and close the connection."""
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception:  # noqa: BLE001 - closing a dead connection must not fail shutdown
                await self._nc.close()
            self._nc = None
            self._js = None
