"""The kernel's page step and cursor decoders: what every list route of the platform relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from owkernel.errors import Unprocessable
from owkernel.pagination import (
    as_int,
    decode_cursor,
    decode_pair_cursor,
    decode_text_cursor,
    decode_time_cursor,
    encode_cursor,
    page_of,
    time_key,
)


def test_page_of_keeps_limit_and_points_after_the_last_kept() -> None:
    page = page_of([1, 2, 3], 2, key=lambda n: [n])
    assert page.items == [1, 2]
    assert decode_cursor(page.next_cursor, size=1) == [2]


def test_page_of_without_the_extra_row_is_the_last_page() -> None:
    assert page_of([1, 2], 2, key=lambda n: [n]).next_cursor is None
    assert page_of([], 2, key=lambda n: [n]).model_dump() == {"items": [], "next_cursor": None}


def test_page_of_makes_items_and_keys_from_the_rows() -> None:
    rows = [("a", 1), ("b", 2), ("c", 3)]
    page = page_of(rows, 2, key=lambda r: [r[1]], item=lambda r: r[0])
    assert page.items == ["a", "b"]
    assert decode_cursor(page.next_cursor, size=1) == [2]


def test_time_cursor_round_trips_in_utc() -> None:
    at = datetime(2026, 12, 6, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    cursor = encode_cursor(time_key(at, "tsk_1"))
    decoded = decode_time_cursor(cursor)
    assert decoded == (at, "tsk_1")
    assert decoded is not None and decoded[0].tzinfo == UTC
    assert decode_time_cursor(None) is None and decode_time_cursor("") is None


@pytest.mark.parametrize(
    "key",
    [
        ["2026-12-06T09:30:00", "tsk_1"],  # naive: no database reads it the same way
        ["yesterday", "tsk_1"],
        [5, "tsk_1"],
        ["2026-12-06T09:30:00+00:00", 7],
        ["2026-12-06T09:30:00+00:00"],
    ],
)
def test_time_cursor_refuses_what_is_not_ours(key: list[object]) -> None:
    with pytest.raises(Unprocessable) as caught:
        decode_time_cursor(encode_cursor(key))  # type: ignore[arg-type]
    assert caught.value.errors == [{"field": "cursor", "message": "invalid", "code": "cursor_invalid", "params": {}}]


def test_pair_cursor_reads_each_part_with_its_parser() -> None:
    cursor = encode_cursor(["2026-12-06T09:30:00+00:00", 42])
    assert decode_pair_cursor(cursor, str, as_int) == ("2026-12-06T09:30:00+00:00", 42)
    with pytest.raises(Unprocessable):
        decode_pair_cursor(encode_cursor(["x", True]), str, as_int)


def test_text_cursor_is_one_text_key() -> None:
    assert decode_text_cursor(encode_cursor(["CITY"])) == "CITY"
    assert decode_text_cursor(None) is None
    for forged in ([5], ["a", "b"], [None]):
        with pytest.raises(Unprocessable):
            decode_text_cursor(encode_cursor(forged))  # type: ignore[arg-type]
