"""The notification port: how a reminder leaves the service, whatever carries it.

Adapters: ``WebhookNotifier`` POSTs a signed JSON body (Standard Webhooks: ``webhook-id``,
``webhook-timestamp``, ``webhook-signature`` = ``v1,`` + base64 HMAC-SHA256) to a push gateway;
``LogNotifier`` writes the reminder to the log (the local run). Either raises ``DeliveryFailed``
and the dispatcher retries with back-off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import structlog
from standardwebhooks import Webhook

log = structlog.get_logger("approval.reminders")


@dataclass(frozen=True)
class OutgoingMessage:
    """One reminder to deliver; ``message_id`` is the same on every retry (receivers de-duplicate)."""

    message_id: str
    kind: str
    department: str | None
    payload: dict[str, Any]


class DeliveryFailed(Exception):  # noqa: N818 - reads as what happened
    """The reminder did not get through; ``status_code`` when the receiver answered."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class Notifier(Protocol):
    """Delivers reminders; returns the receiver's status code (None when there is none)."""

    name: str

    async def send(self, message: OutgoingMessage) -> int | None:
        """Deliver one message or raise ``DeliveryFailed``."""
        ...


class LogNotifier:
    """Reminders as log lines: the local run has no push gateway."""

    name = "log"

    async def send(self, message: OutgoingMessage) -> int | None:
        """Log the reminder."""
        log.info(
            "reminder",
            message_id=message.message_id,
            kind=message.kind,
            department=message.department,
            **message.payload,
        )
        return None


class WebhookNotifier:
    """Reminders POSTed to a push gateway, signed so it can tell they are ours."""

    name = "webhook"

    def __init__(self, *, url: str, secret: str, client: httpx.AsyncClient, timeout: float = 5.0) -> None:
        self.url = url
        self.signer = Webhook(secret)
        self.client = client
        self.timeout = timeout

    def sign(self, message_id: str, at: datetime, body: str) -> dict[str, str]:
        """The Standard Webhooks headers of one body."""
        return {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self.signer.sign(message_id, at.astimezone(UTC), body),
        }

    async def send(self, message: OutgoingMessage) -> int | None:
        """POST the reminder; anything but 2xx is a failure."""
        body = json.dumps(
            {"id": message.message_id, "type": message.kind, "department": message.department, **message.payload},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        headers = self.sign(message.message_id, datetime.now(UTC), body)
        try:
            response = await self.client.post(self.url, content=body.encode(), headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"receiver answered {response.status_code}", status_code=response.status_code)
        return response.status_code


def make_notifier(
    *, adapter: str, url: str | None, secret: str | None, client: httpx.AsyncClient, timeout: float
) -> Notifier:
    """The configured adapter (a webhook without URL or secret is a configuration error)."""
    if adapter == "webhook":
        if not url or not secret:
            raise ValueError("APPROVAL_NOTIFY_WEBHOOK_URL and APPROVAL_NOTIFY_WEBHOOK_SECRET are required")
        return WebhookNotifier(url=url, secret=secret, client=client, timeout=timeout)
    return LogNotifier()
