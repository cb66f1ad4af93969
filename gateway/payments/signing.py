"""HMAC-SHA256 signatures of the payment provider's callbacks: ``v1=<hex>`` over ``<timestamp>.<body>``."""

from __future__ import annotations

import hashlib
import hmac
import time

from owkernel.errors import Unauthorized

TIMESTAMP_HEADER = "X-Payment-Timestamp"
SIGNATURE_HEADER = "X-Payment-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, *, timestamp: str | None, signature_value: str | None, body: bytes, tolerance: int) -> None:
    """Raise ``Unauthorized`` unless the callback is signed with ``secret`` and recent."""
    if not timestamp or not signature_value:
        raise Unauthorized("The callback is not signed.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise Unauthorized("The callback's timestamp is not valid.") from None
    if abs(time.time() - sent_at) > tolerance:
        raise Unauthorized("The callback's timestamp is too old or in the future.")
    expected = signature(secret, sent_at, body)
    if not any(hmac.compare_digest(expected, part.strip()) for part in signature_value.split(",")):
        raise Unauthorized("The callback's signature does not match.")
