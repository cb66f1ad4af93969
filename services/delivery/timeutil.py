"""Times: aware UTC in the code; the models' ``UtcDateTime`` columns store and read them so on both
databases (SQLite keeps no offset), so a time read back needs no patching."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from owkernel.errors import Unprocessable
from owkernel.pagination import decode_cursor


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A time that came in from elsewhere (an event, a courier) as aware UTC; a naive one is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The ``(time, id)`` key in a list's cursor, the time aware UTC; 422 for anything else."""
    key = decode_cursor(cursor, size=2)
    if key is None:
        return None
    at: datetime | None = None
    if isinstance(key[0], str):
        try:
            at = datetime.fromisoformat(key[0])
        except ValueError:
            at = None
    # Ours always carry an offset: a naive time would be read in a different zone on each database.
    if at is None or at.tzinfo is None or not isinstance(key[1], str):
        raise Unprocessable("The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid"}])
    return at.astimezone(UTC), key[1]


def new_id(prefix: str) -> str:
    """A new opaque id such as ``shp_3f2a...``."""
    return f"{prefix}_{uuid.uuid4().hex}"
