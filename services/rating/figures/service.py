"""The published figures: kept from the events (``recording.py``), summed per month and hall when asked.

Trips, clocks and cards are rating's copies the assessment keeps already
(``services.rating.known_supervision``); satisfaction is the ratings' own daily roll-up.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Unprocessable
from owkernel.errors import field_error, validation_field_errors
from owkernel.halls import CITY_HALL
from services.rating.common import local_date, parse_month, period
from services.rating.figures import repository
from services.rating.figures.schemas import (
    FiguresOut,
    HistoryIn,
    HistoryMonth,
    HistoryResult,
    MonthFigures,
    MonthRow,
    ProjectFigures,
    ProjectsOut,
    StageFigures,
    StageUse,
)
from services.rating.settings import RatingSettings

MAX_MONTHS = 120
SHARES = (
    "online_share",
    "zero_trip_share",
    "one_trip_share",
    "deferred_share",
    "on_time_rate",
    "consultations_on_time_rate",
    "satisfaction_rate",
)
CSV_FIELDS = (
    "month",
    "source",
    "applications",
    *SHARES[:5],
    "red_cards",
    *SHARES[5:],
    "projects_count",
    "projects_key",
    "projects_investment_fen",
)


def month_of(at: datetime, settings: RatingSettings) -> str:
    """The hall's calendar month of an instant, ``YYYY-MM``."""
    return local_date(at, settings).strftime("%Y-%m")


# --- the figures -------------------------------------------------------------------------------


def _months(first: str, last: str) -> list[str]:
    out: list[str] = []
    day, end = parse_month(first)[0], parse_month(last)[0]
    while day <= end:
        out.append(day.strftime("%Y-%m"))
        day = parse_month(day.strftime("%Y-%m"))[1]
    return out


def _range(start: str | None, end: str | None, today: date) -> list[str]:
    last = end or today.strftime("%Y-%m")
    if start is None:
        first_day = parse_month(last)[0]
        year, month = divmod(first_day.year * 12 + first_day.month - 1 - 11, 12)
        start = f"{year:04d}-{month + 1:02d}"
    if parse_month(last)[0] < parse_month(start)[0]:
        raise Unprocessable("'to' is before 'from'.", errors=[field_error("to", "before from", "to_before_from")])
    months = _months(start, last)
    if len(months) > MAX_MONTHS:
        raise Unprocessable(
            f"At most {MAX_MONTHS} months at once.",
            errors=[field_error("from", f"{MAX_MONTHS} months", "too_many_months", max_months=MAX_MONTHS)],
        )
    return months


class Tally(defaultdict[str, float]):
    """Numerators and denominators of the figures (an imported share's numerator is fractional)."""

    def __init__(self) -> None:
        super().__init__(float)

    def add(self, other: Tally) -> None:
        """Add another tally's counts into this one."""
        for key, value in other.items():
            self[key] += value


def _ratio(n: float, d: float) -> float | None:
    return round(n / d, 4) if d else None


def _figures(c: Tally) -> MonthFigures:
    count = {k: round(c[k]) for k in ("applications", "red_cards", "projects", "key_projects", "investment_fen")}
    return MonthFigures(
        applications=count["applications"],
        online_share=_ratio(c["online"], c["online_base"]),
        zero_trip_share=_ratio(c["zero_trips"], c["completed"]),
        one_trip_share=_ratio(c["one_trip"], c["completed"]),
        deferred_share=_ratio(c["deferred"], c["applications"]),
        on_time_rate=_ratio(c["on_time"], c["closed"]),
        red_cards=count["red_cards"],
        consultations_on_time_rate=_ratio(c["consult_on_time"], c["consult_closed"]),
        satisfaction_rate=_ratio(c["satisfied"], c["rated"]),
        projects=ProjectFigures(
            count=count["projects"], key=count["key_projects"], investment_fen=count["investment_fen"]
        ),
    )


def _imported(row: Any) -> Tally:
    """An imported month as counts: each share weighs by the month's applications (all it says),
    so one month alone answers exactly the share it was published with."""
    n = row.applications

    def part(share: float | None) -> tuple[float, float]:
        return (share * n, n) if share is not None else (0.0, 0.0)

    c = Tally()
    c["applications"], c["red_cards"] = n, row.red_cards
    for num, den, share in (
        ("online", "online_base", row.online_share),
        ("zero_trips", "completed", row.zero_trip_share),
        ("on_time", "closed", row.on_time_rate),
        ("consult_on_time", "consult_closed", row.consultations_on_time_rate),
        ("satisfied", "rated", row.satisfaction_rate),
    ):
        got, base = part(share)
        c[num] += got
        c[den] = base
    c["one_trip"] += part(row.one_trip_share)[0]
    c["deferred"] += part(row.deferred_share)[0]
    c["projects"], c["key_projects"] = row.projects_count, row.projects_key
    c["investment_fen"] = row.projects_investment_fen
    return c


async def figures(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    start: str | None,
    end: str | None,
    hall: str | None,
    today: date,
) -> FiguresOut:
    """Every month of ``[start, end]`` (the last twelve by default) and their total, for one hall or all."""
    months = _range(start, end, today)
    computed = await _computed(session, settings=settings, first=months[0], last=months[-1], hall=hall)
    # A hall's month imported from before the platform answers the import, not the events.
    history = await repository.history(session, first=months[0], last=months[-1], hall=hall)
    imported = {(r.month, r.hall): _imported(r) for r in history}
    rows: list[MonthRow] = []
    total = Tally()
    for month in months:
        c = Tally()
        source = "computed"
        for (m, h), counts in computed.items():
            if m == month and (m, h) not in imported:
                c.add(counts)
        for (m, _), counts in imported.items():
            if m == month:
                c.add(counts)
                source = "imported"
        total.add(c)
        rows.append(MonthRow(month=month, source=source, **_figures(c).model_dump()))
    return FiguresOut(hall=hall, months=rows, total=_figures(total))


async def _computed(
    session: AsyncSession, *, settings: RatingSettings, first: str, last: str, hall: str | None
) -> dict[tuple[str, str], Tally]:
    """The months' counts from the events' facts, per month and hall, source by source."""
    lower, upper = period(parse_month(first)[0], parse_month(last)[1] - timedelta(days=1), settings)
    assert lower is not None and upper is not None
    counts = _Counts(settings=settings, hall=hall)
    counts.applications(await repository.accepted(session, first=first, last=last, hall=hall))
    counts.trips(await repository.completed_trips(session, first=first, last=last, hall=hall))
    counts.clocks(await repository.closed_clocks(session, lower=lower, upper=upper))
    counts.red_cards(await repository.red_cards(session, lower=lower, upper=upper))
    counts.satisfaction(
        await repository.satisfaction(session, lower=parse_month(first)[0], upper=parse_month(last)[1], hall=hall)
    )
    counts.projects(await repository.projects(session, first=first, last=last, hall=hall))
    return counts.tallies


class _Counts:
    """The tallies of a range per (month, hall), each source's rows added by its own step."""

    def __init__(self, *, settings: RatingSettings, hall: str | None) -> None:
        self.settings, self.hall = settings, hall
        self.tallies: dict[tuple[str, str], Tally] = {}

    def at(self, month: str, row_hall: str | None) -> Tally:
        """The tally of a month and hall (a row without a hall is the city hall's)."""
        return self.tallies.setdefault((month, row_hall or CITY_HALL), Tally())

    def _asked(self, row_hall: str | None) -> bool:
        # The queries by instant are not filtered by hall: the rows of other halls are left out here.
        return self.hall is None or (row_hall or CITY_HALL) == self.hall

    def applications(self, rows: list[tuple[Any, ...]]) -> None:
        """Applications handled, 容缺 among them, and the online share (of items that are not secret)."""
        for month, row_hall, channel, secret, deferred, n in rows:
            c = self.at(month, row_hall)
            c["applications"] += n
            c["deferred"] += n if deferred else 0
            if not secret:
                c["online_base"] += n
                c["online"] += n if channel == "online" else 0

    def trips(self, rows: list[tuple[Any, ...]]) -> None:
        """Completed applications and how many came in with zero or one trip."""
        for month, row_hall, trips in rows:
            c = self.at(month, row_hall)
            c["completed"] += 1
            c["zero_trips"] += int(trips == 0)
            c["one_trip"] += int(trips == 1)

    def clocks(self, rows: list[tuple[Any, ...]]) -> None:
        """Closed clocks: tasks and applications on time, consultations on time apart."""
        for closed_at, kind, on_time, row_hall in rows:
            if not self._asked(row_hall):
                continue
            c = self.at(month_of(closed_at, self.settings), row_hall)
            if kind in ("task", "application"):
                c["closed"] += 1
                c["on_time"] += int(bool(on_time))
            elif kind == "consultation":
                c["consult_closed"] += 1
                c["consult_on_time"] += int(bool(on_time))

    def red_cards(self, rows: list[tuple[Any, ...]]) -> None:
        """Red cards raised in the month."""
        for raised_at, row_hall in rows:
            if self._asked(row_hall):
                self.at(month_of(raised_at, self.settings), row_hall)["red_cards"] += 1

    def satisfaction(self, rows: list[tuple[Any, ...]]) -> None:
        """The ratings' daily roll-up (already of the hall asked, when one was)."""
        for day, rated, satisfied in rows:
            c = self.at(day.strftime("%Y-%m"), self.hall)
            c["rated"] += int(rated or 0)
            c["satisfied"] += int(satisfied or 0)

    def projects(self, rows: list[tuple[Any, ...]]) -> None:
        """Projects counted once, the key ones and their investment."""
        for month, row_hall, key_project, n, investment in rows:
            c = self.at(month, row_hall)
            c["projects"] += n
            c["key_projects"] += n if key_project else 0
            c["investment_fen"] += int(investment or 0)


def figures_csv(out: FiguresOut) -> str:
    """The figures as CSV: one line per month, then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    lines: list[tuple[str, str, MonthFigures]] = [(r.month, r.source, r) for r in out.months]
    lines.append(("total", "", out.total))
    for month, source, f in lines:
        shares = ["" if getattr(f, name) is None else f"{getattr(f, name):.4f}" for name in SHARES]
        writer.writerow(
            [
                month,
                source,
                f.applications,
                *shares[:5],
                f.red_cards,
                *shares[5:],
                f.projects.count,
                f.projects.key,
                f.projects.investment_fen,
            ]
        )
    return buffer.getvalue()


# --- the history from before the platform ------------------------------------------------------


def parse_history_csv(text: str) -> HistoryIn:
    """An import file: a header naming ``HistoryMonth``'s fields, one month per line; 422 otherwise."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "month" not in reader.fieldnames or "applications" not in reader.fieldnames:
        raise Unprocessable(
            "The CSV header must name at least month and applications.",
            errors=[field_error("file", "header lacks month or applications", "csv_header_incomplete")],
        )
    months: list[dict[str, Any]] = []
    for row in reader:
        if None in row:
            raise Unprocessable(
                f"Line {reader.line_num} has more values than the header has columns.",
                errors=[field_error(f"line {reader.line_num}", "too many values", "csv_too_many_values")],
            )
        months.append({k: v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""})
    return history_in({"months": months})


def history_in(payload: Any) -> HistoryIn:
    """Validated import; 422 naming every wrong field."""
    try:
        return HistoryIn.model_validate(payload)
    except ValidationError as exc:
        errors = validation_field_errors(exc.errors()[:50])
        raise Unprocessable("The imported figures are not valid.", errors=errors) from exc


async def import_history(session: AsyncSession, *, data: HistoryIn, by: str) -> HistoryResult:
    """Store the center's earlier published months; a month imported again is replaced."""
    seen: dict[tuple[str, str], HistoryMonth] = {}
    for m in data.months:
        parse_month(m.month)
        seen[(m.month, m.hall)] = m
    await repository.put_history(
        session, [{**m.model_dump(), "imported_by": by} for _, m in sorted(seen.items(), key=lambda kv: kv[0])]
    )
    return HistoryResult(
        imported=len(seen),
        months=sorted({m for m, _ in seen}),
        halls=sorted({h for _, h in seen}),
    )


async def projects(session: AsyncSession) -> ProjectsOut:
    """The four stages' promise from the catalog and the working days approved stages really used."""
    items = await repository.stage_items(session)
    uses = {stage: (n, avg, most) for stage, n, avg, most in await repository.stage_uses(session)}
    stages: list[StageFigures] = []
    sequential = 0
    for stage in range(1, 5):
        mine = [i for i in items if i.stage == stage]
        departments = list(dict.fromkeys(d for i in mine for d in i.departments))
        # The departments of a stage work together: the stage takes its longest promise.
        committed = max((i.committed_days for i in mine), default=0)
        # One after another, every department of the stage takes the item's promise in turn.
        sequential += sum(i.committed_days * max(1, len(i.departments)) for i in mine)
        n, avg, most = uses.get(stage, (0, None, None))
        stages.append(
            StageFigures(
                stage=stage,
                items=[i.code for i in mine],
                departments=departments,
                committed_days=committed,
                used=StageUse(
                    projects=int(n),
                    average_working_days=round(float(avg), 1) if avg is not None else None,
                    max_working_days=int(most) if most is not None else None,
                ),
            )
        )
    return ProjectsOut(stages=stages, parallel_total=sum(s.committed_days for s in stages), sequential_total=sequential)
