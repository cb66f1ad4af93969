"""Survey import: a survey institution's CSV, checked row by row; good rows count, bad rows are reported.

The file's columns (header row, any order): ``response_id``, ``surveyed_on`` (YYYY-MM-DD),
``department``, ``score`` (1-5, or the level's name: 非常满意 满意 基本满意 不满意 非常不满意) are
required; ``window``, ``item_code``, ``clerk`` and ``comment`` are optional. A response is
known by (institution, response_id): importing the same rows again adds nothing.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Principal, Unprocessable
from owkernel.kernel import clock_of
from services.rating.common import FIRST_DAY, day_start, local_date, new_id
from services.rating.reviews import repository as reviews
from services.rating.reviews import rollup
from services.rating.reviews import service as ratings
from services.rating.settings import RatingSettings
from services.rating.surveys import repository
from services.rating.surveys.models import SurveyImport

REQUIRED = ("response_id", "surveyed_on", "department", "score")
OPTIONAL = ("window", "item_code", "clerk", "comment")
LEVELS = {"非常满意": 5, "满意": 4, "基本满意": 3, "不满意": 2, "非常不满意": 1}
# A report lists this many bad rows at most (the count covers them all).
MAX_REPORTED_ERRORS = 1000
LIMITS = {
    "response_id": 100,
    "department": 80,
    "window": 40,
    "item_code": 80,
    "clerk": 120,
    "comment": 2000,
}


@dataclass
class Row:
    """A survey response that passed every check."""

    line: int
    response_id: str
    surveyed_on: date
    department: str
    score: int
    window: str | None = None
    item_code: str | None = None
    clerk: str | None = None
    comment: str | None = None


@dataclass
class Parsed:
    """The outcome of reading a file."""

    rows: list[Row] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicates_in_file: int = 0
    total: int = 0


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what spreadsheets in China often save)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unprocessable("The file is neither UTF-8 nor GB18030 text.")


def _score(raw: str) -> int:
    text = raw.strip()
    if text in LEVELS:
        return LEVELS[text]
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise ValueError(f"score must be 1 to 5 (or a level's name), not {raw!r}")
    return int(text)


def _row(line: int, record: dict[str, str], *, today: date) -> Row:
    values = {k: (record.get(k) or "").strip() for k in (*REQUIRED, *OPTIONAL)}
    for name in REQUIRED:
        if not values[name]:
            raise ValueError(f"{name} is missing")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    try:
        surveyed_on = date.fromisoformat(values["surveyed_on"])
    except ValueError:
        raise ValueError(f"surveyed_on must be a date YYYY-MM-DD, not {values['surveyed_on']!r}") from None
    if surveyed_on > today:
        raise ValueError("surveyed_on is in the future")
    if surveyed_on < FIRST_DAY:
        raise ValueError(f"surveyed_on is before {FIRST_DAY.isoformat()}")
    return Row(
        line=line,
        response_id=values["response_id"],
        surveyed_on=surveyed_on,
        department=values["department"],
        score=_score(values["score"]),
        window=values["window"] or None,
        item_code=values["item_code"] or None,
        clerk=values["clerk"] or None,
        comment=values["comment"] or None,
    )


def parse(text: str, *, today: date, max_rows: int) -> Parsed:
    """Check every row; a bad row is reported with its line and reason, the others are kept."""
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _columns(reader)
    out = Parsed()
    seen: set[str] = set()
    line_end = reader.line_num
    while True:
        line = line_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.total += 1
            out.errors.append({"line": line, "reason": f"not valid CSV: {exc}"})
            line_end = reader.line_num
            continue
        line_end = reader.line_num
        if any(c.strip() for c in cells):  # blank lines are not rows
            _take(out, seen, line=line, cells=cells, columns=columns, today=today, max_rows=max_rows)
    return out


def _columns(reader: Iterator[list[str]]) -> list[str]:
    """The header's column names (lower case); 422 for an empty file or a required column missing."""
    try:
        header = next(reader)
    except StopIteration:
        raise Unprocessable("The file is empty.") from None
    except csv.Error as exc:
        raise Unprocessable(f"The header row is not valid CSV: {exc}.") from exc
    columns = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise Unprocessable(
            f"The header lacks the column(s): {', '.join(missing)}.",
            errors=[{"line": 1, "reason": f"missing column {c}"} for c in missing],
        )
    return columns


def _take(
    out: Parsed, seen: set[str], *, line: int, cells: list[str], columns: list[str], today: date, max_rows: int
) -> None:
    """One row that is not blank: kept, reported with its reason, or counted as a repeat in the file."""
    out.total += 1
    if out.total > max_rows:
        raise Unprocessable(f"The file has more than {max_rows} rows; split it.")
    if len(cells) > len(columns):
        out.errors.append({"line": line, "reason": f"{len(cells)} cells for {len(columns)} columns"})
        return
    record = dict(zip(columns, cells, strict=False))
    try:
        row = _row(line, record, today=today)
    except ValueError as exc:
        error: dict[str, Any] = {"line": line, "reason": str(exc)}
        if record.get("response_id", "").strip():
            error["response_id"] = record["response_id"].strip()
        out.errors.append(error)
        return
    if row.response_id in seen:
        out.duplicates_in_file += 1
        return
    seen.add(row.response_id)
    out.rows.append(row)


def response_key(institution: str, response_id: str) -> str:
    """The uniqueness key of one survey response."""
    return f"survey:{institution}:{response_id}"


async def import_file(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    principal: Principal,
    institution: str,
    filename: str | None,
    content: bytes,
) -> SurveyImport:
    """Import a file: good rows become survey ratings, bad ones are reported, known ones skipped."""
    digest = hashlib.sha256(content).hexdigest()
    text = decode(content)
    today = local_date(clock_of(session).now(), settings)
    # Parsing a large file is CPU work: keep it off the event loop.
    parsed = await asyncio.to_thread(parse, text, today=today, max_rows=settings.survey_max_rows)
    keys = [response_key(institution, r.response_id) for r in parsed.rows]
    taken = await reviews.existing_dedupe_keys(session, keys)
    record = SurveyImport(
        import_id=new_id("SV"),
        institution=institution,
        filename=filename,
        file_sha256=digest,
        imported_by=principal.username or principal.subject_id,
        imported_at=clock_of(session).now(),
        rows_total=parsed.total,
        rows_added=0,
        rows_duplicate=parsed.duplicates_in_file,
        rows_rejected=len(parsed.errors),
        errors=parsed.errors[:MAX_REPORTED_ERRORS],
    )
    repository.add(session, record)
    await _add_ratings(session, settings=settings, record=record, rows=parsed.rows, keys=keys, taken=taken)
    return record


async def _add_ratings(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    record: SurveyImport,
    rows: list[Row],
    keys: list[str],
    taken: Collection[str],
) -> None:
    """The rows not imported before become survey ratings; their daily figures are written once, at the end."""
    figures = rollup.Rollup()
    for row, key in zip(rows, keys, strict=True):
        if key in taken:
            record.rows_duplicate += 1
            continue
        await ratings.submit(
            session,
            settings=settings,
            channel="survey",
            score=row.score,
            comment=row.comment,
            department=row.department,
            window=row.window,
            item_code=row.item_code,
            clerk=row.clerk,
            survey_import_id=record.import_id,
            dedupe_key=key,
            # Midday of the survey day in the hall's time: the day it counts for, whatever the zone.
            rated_at=day_start(row.surveyed_on, settings) + timedelta(hours=12),
            batch=figures,
        )
        record.rows_added += 1
    await figures.flush(session)
