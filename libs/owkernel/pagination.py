"""Cursor pagination: ``{"items": [...], "next_cursor": ...}`` with opaque keyset cursors.

A cursor is the sort key of the last item of a page, so a page costs the same however deep it
is (an index seek, never an OFFSET scan).
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, JsonValue

from owkernel.errors import Unprocessable

T = TypeVar("T")

MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[JsonValue]) -> str:
    """Opaque cursor from the last item's sort key."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, size: int) -> list[JsonValue] | None:
    """The sort key in a cursor; 422 for anything that is not one of ours."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable("The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid"}]) from exc
    if not isinstance(key, list) or len(key) != size:
        raise Unprocessable("The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid"}])
    return key


def decode_id_cursor(cursor: str | None) -> int | None:
    """The row id in a cursor of lists ordered by one integer id; 422 for anything else."""
    key = decode_cursor(cursor, size=1)
    if key is None:
        return None
    # bool is an int to Python, never an id to us.
    if not isinstance(key[0], int) or isinstance(key[0], bool):
        raise Unprocessable("The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid"}])
    return key[0]


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
CursorParam = Annotated[str | None, Query(max_length=512, description="Opaque cursor from next_cursor")]
