"""Times: stored in UTC everywhere (SQLite keeps no offset), read back timezone-aware."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one read from SQLite is UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id(prefix: str) -> str:
    """A new opaque id such as ``shp_3f2a...``."""
    return f"{prefix}_{uuid.uuid4().hex}"
