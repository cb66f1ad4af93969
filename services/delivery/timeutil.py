"""Times: aware UTC in the code; the models' ``UtcDateTime`` columns store and read them so on both
databases (SQLite keeps no offset), so a time read back needs no patching."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """A time that came in from elsewhere (an event, a courier) as aware UTC; a naive one is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id(prefix: str) -> str:
    """A new opaque id such as ``shp_3f2a...``."""
    return f"{prefix}_{uuid.uuid4().hex}"
