"""Cursor pagination: ``{"items": [...], "next_cursor": ...}`` with opaque keyset cursors.

A cursor is the sort key of the last item of a page, so a page costs the same however deep it
is (an index seek, never an OFFSET scan). A list route reads the cursor with one decoder
(``decode_id_cursor``, ``decode_text_cursor``, ``decode_time_cursor``, ``decode_pair_cursor``), asks its repository for
``limit + 1`` rows after it, and hands them to ``page_of``, which keeps ``limit`` of them and
makes the next cursor from the last one kept when the extra row shows there is more.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, overload

from fastapi import Query
from pydantic import BaseModel, JsonValue

from owkernel.errors import Unprocessable, field_error

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")

MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = None


def invalid_cursor() -> Unprocessable:
    """The 422 for a cursor that is not one of ours (forged, truncated, from another list)."""
    return Unprocessable("The cursor is not valid.", errors=[field_error("cursor", "invalid", "cursor_invalid")])


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
        raise invalid_cursor() from exc
    if not isinstance(key, list) or len(key) != size:
        raise invalid_cursor()
    return key


def decode_id_cursor(cursor: str | None) -> int | None:
    """The row id in a cursor of lists ordered by one integer id; 422 for anything else."""
    key = decode_cursor(cursor, size=1)
    if key is None:
        return None
    # bool is an int to Python, never an id to us.
    if not isinstance(key[0], int) or isinstance(key[0], bool):
        raise invalid_cursor()
    return key[0]


def decode_text_cursor(cursor: str | None) -> str | None:
    """The text key (a code, a username) in a cursor of lists ordered by one text column; 422 for
    anything else."""
    key = decode_cursor(cursor, size=1)
    if key is None:
        return None
    if not isinstance(key[0], str):
        raise invalid_cursor()
    return key[0]


def parse_instant(value: Any) -> datetime:
    """A cursor's time: ISO 8601 text with an offset, returned in UTC; ValueError for anything else.

    Ours always carry an offset (they are made from aware times): a naive one would be read in
    a different zone on each database, so it is refused rather than guessed.
    """
    if not isinstance(value, str):
        raise ValueError("a cursor's time is text")
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError("a cursor's time names its offset")
    return at.astimezone(UTC)


def as_text(value: Any) -> str:
    """A cursor's text part (an opaque id); ValueError for anything else."""
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def as_int(value: Any) -> int:
    """A cursor's integer part (a row id); ValueError for anything else, a boolean too."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def decode_pair_cursor(cursor: str | None, first: Callable[[Any], A], second: Callable[[Any], B]) -> tuple[A, B] | None:
    """The two-part key ``[sort value, tie-breaker]`` of a cursor, each part read by its parser
    (which raises ValueError, TypeError or OverflowError for a part that is not one); 422 for a
    cursor that is not one of ours."""
    key = decode_cursor(cursor, size=2)
    if key is None:
        return None
    try:
        return first(key[0]), second(key[1])
    except (TypeError, ValueError, OverflowError) as exc:
        raise invalid_cursor() from exc


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The ``(time, id)`` key of lists ordered by a time and a text id, the time aware UTC."""
    return decode_pair_cursor(cursor, parse_instant, as_text)


def time_key(at: datetime, tie: str | int) -> list[JsonValue]:
    """The cursor key of a row ordered by ``(at, tie)``: the form ``decode_time_cursor`` reads."""
    return [at.isoformat(), tie]


@overload
def page_of(rows: Sequence[R], limit: int, *, key: Callable[[R], list[JsonValue]]) -> Page[R]: ...


@overload
def page_of(
    rows: Sequence[R], limit: int, *, key: Callable[[R], list[JsonValue]], item: Callable[[R], T]
) -> Page[T]: ...


def page_of(
    rows: Sequence[R],
    limit: int,
    *,
    key: Callable[[R], list[JsonValue]],
    item: Callable[[R], Any] | None = None,
) -> Page[Any]:
    """One page from ``limit + 1`` rows fetched after the cursor: the first ``limit`` (each made an
    item by ``item``, when given), and the next cursor, ``key`` of the last one kept, when the
    extra row shows there is more."""
    kept = rows[:limit]
    items = [item(row) for row in kept] if item is not None else list(kept)
    return Page(items=items, next_cursor=next_cursor_of(rows, limit, key=key))


def next_cursor_of(rows: Sequence[R], limit: int, *, key: Callable[[R], list[JsonValue]]) -> str | None:
    """The next cursor of a page made from ``limit + 1`` rows (for a route whose items are made by
    awaiting something, which ``page_of`` cannot do): ``key`` of the last row kept, or None when
    the extra row is not there."""
    return encode_cursor(key(rows[limit - 1])) if len(rows) > limit and limit > 0 else None


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
CursorParam = Annotated[str | None, Query(max_length=512, description="Opaque cursor from next_cursor")]
