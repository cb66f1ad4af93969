"""The monthly 100-point assessment: weighted components from ratings, supervision and inspections.

Components (weights configurable, scaled to sum to 100):
- satisfaction: share of the month's ratings scored 3-5 (annulled ones left out), times its weight;
- on_time: share of supervision clocks closed in the month that closed on time, times its weight;
- red_cards: its weight minus ``assessment_red_card_points`` per red card raised in the month;
- inspections: its weight minus the penalty points of the month's inspection findings;
- online: share of the month's accepted applications whose applicant made no trip to the hall
  (no ``intake.visit.recorded`` of kind window or appointment), times its weight.
A component with nothing to measure scores in full. Scores never go below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Principal, Unprocessable
from owkernel.contracts.rating import AssessmentComponent, AssessmentPublished
from owkernel.kernel import clock_of
from services.rating.assessments import repository
from services.rating.assessments.models import Assessment
from services.rating.common import day_start, local_date, parse_month, utcnow
from services.rating.db import outbox
from services.rating.settings import DEFAULT_WEIGHTS, RatingSettings

COMPONENTS = tuple(DEFAULT_WEIGHTS)
# A hall's windows and departments, and each hall as a whole (the city assesses its counties).
SCOPES = ("window", "department", "hall")


def normalise(weights: dict[str, float]) -> dict[str, float]:
    """Weights of the five components scaled to sum to 100; 422 for unknown or negative ones."""
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise Unprocessable(f"Unknown assessment components: {', '.join(unknown)}.")
    if any(v < 0 for v in weights.values()):
        raise Unprocessable("Assessment weights cannot be negative.")
    total = sum(weights.values())
    if total <= 0:
        raise Unprocessable("Assessment weights must add up to more than zero.")
    return {name: round(weights.get(name, 0.0) * 100.0 / total, 6) for name in COMPONENTS}


def _rate(weight: float, measured: tuple[int, int] | None, *, what: str) -> AssessmentComponent:
    name = what
    if measured is None or measured[0] == 0:
        return AssessmentComponent(name=name, weight=weight, value=None, score=weight, detail="nothing to measure")
    total, good = measured
    value = good / total
    return AssessmentComponent(
        name=name, weight=weight, value=round(value, 4), score=round(weight * value, 2), detail=f"{good}/{total}"
    )


def _penalty(weight: float, count: int, points: float, *, what: str, detail: str) -> AssessmentComponent:
    return AssessmentComponent(
        name=what, weight=weight, value=float(count), score=round(max(0.0, weight - points), 2), detail=detail
    )


async def compute(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    principal: Principal,
    month: str,
    weights: dict[str, float] | None = None,
) -> list[Assessment]:
    """Score every window and department active in ``month``, publish each with its breakdown."""
    first, nxt = parse_month(month)
    if day_start(first, settings) > clock_of(session).now():
        raise Unprocessable("That month has not begun.")
    lower, upper = day_start(first, settings), day_start(nxt, settings)
    used = normalise(weights if weights is not None else settings.assessment_weights)
    now = clock_of(session).now()
    rows: list[Assessment] = []
    for scope in SCOPES:
        measured = await _measured(session, scope=scope, lower=lower, upper=upper, first=first, nxt=nxt)
        for hall, key in measured.named():
            parts = measured.parts((hall, key), used=used, red_card_points=settings.assessment_red_card_points)
            score = round(sum(p.score for p in parts), 2)
            breakdown: list[dict[str, Any]] = [p.model_dump(mode="json") for p in parts]
            rows.append(
                Assessment(
                    month=month,
                    hall=hall,
                    scope=scope,
                    key=key,
                    score=score,
                    breakdown=breakdown,
                    weights=used,
                    computed_by=principal.username or principal.subject_id,
                    computed_at=now,
                )
            )
            # The event's scope names a window or a department; a hall's own score is read at
            # GET /api/v1/assessments?scope=hall (a new event type would announce it).
            if scope != "hall":
                await outbox.add(session, _published(rows[-1], parts=parts, at=now))
    await repository.replace(session, month=month, rows=rows)
    return rows


def _published(row: Assessment, *, parts: list[AssessmentComponent], at: datetime) -> AssessmentPublished:
    """The event of a window's or a department's assessment."""
    return AssessmentPublished(
        month=row.month,
        scope="window" if row.scope == "window" else "department",
        key=row.key,
        score=row.score,
        breakdown=parts,
        published_at=at,
        hall=row.hall,
    )


@dataclass(frozen=True)
class _Measured:
    """One scope's measures of the month, each keyed by (hall, key)."""

    satisfaction: repository.Keyed
    on_time: repository.Keyed
    red_cards: repository.Keyed
    findings: repository.Keyed
    online: repository.Keyed

    def named(self) -> list[tuple[str, str]]:
        """Every (hall, key) some measure names, in order (rows without a key left out)."""
        measures = (self.satisfaction, self.on_time, self.red_cards, self.findings, self.online)
        return sorted({k for m in measures for k in m if k[1]})

    def parts(
        self, at: tuple[str, str], *, used: dict[str, float], red_card_points: float
    ) -> list[AssessmentComponent]:
        """The five components of one window, department or hall."""
        red = self.red_cards.get(at, 0)
        count, points = self.findings.get(at, (0, 0))
        return [
            _rate(used["satisfaction"], self.satisfaction.get(at), what="satisfaction"),
            _rate(used["on_time"], self.on_time.get(at), what="on_time"),
            _penalty(used["red_cards"], red, red * red_card_points, what="red_cards", detail=f"{red} red card(s)"),
            _penalty(
                used["inspections"],
                count,
                float(points),
                what="inspections",
                detail=f"{count} finding(s), {points} point(s)",
            ),
            _rate(used["online"], self.online.get(at), what="online"),
        ]


async def _measured(
    session: AsyncSession, *, scope: str, lower: datetime, upper: datetime, first: date, nxt: date
) -> _Measured:
    """The month's measures of one scope (the queries in this order)."""
    return _Measured(
        satisfaction=await repository.satisfaction(session, scope=scope, lower=lower, upper=upper),
        on_time=await repository.on_time(session, scope=scope, lower=lower, upper=upper),
        red_cards=await repository.red_cards(session, scope=scope, lower=lower, upper=upper),
        findings=await repository.findings(session, scope=scope, first=first, nxt=nxt),
        online=await repository.online(session, scope=scope, lower=lower, upper=upper),
    )


SYSTEM = Principal(subject_id="system", kind="staff", roles=frozenset({"supervisor"}), username="system")


def previous_month(settings: RatingSettings, now: datetime | None = None) -> str:
    """``YYYY-MM`` of the month before this one, in the hall's time."""
    today = local_date(now or utcnow(), settings)
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


async def compute_if_missing(session: AsyncSession, *, settings: RatingSettings, month: str) -> bool:
    """Compute and publish ``month`` unless it has been; True when it computed something."""
    if await repository.month_published(session, month=month):
        return False
    rows = await compute(session, settings=settings, principal=SYSTEM, month=month)
    return bool(rows)
