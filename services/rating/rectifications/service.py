"""Rectification rules: open on a bad review or a finding, visit, appeal, result, approval's clock."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Conflict, Forbidden, NotFound, Principal, RetryLater, Unprocessable
from owkernel.contracts.approval import CardRaised, ClockClosed, ClockOpened, ClockRescheduled
from owkernel.contracts.rating import RectificationClosed, RectificationOpened
from owkernel.kernel import clock_of
from services.rating.common import local_date, new_id
from services.rating.db import outbox
from services.rating.rectifications import repository
from services.rating.rectifications.models import Rectification
from services.rating.reviews import repository as reviews
from services.rating.reviews import rollup
from services.rating.settings import RatingSettings

OVERSIGHT = ("supervisor", "admin")
CLOSED = ("rectified", "annulled")


async def open_case(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    origin: str,
    department: str,
    window: str | None,
    application_no: str | None,
    item_code: str | None,
    complaint: str | None,
    review_id: str | None = None,
    inspection_id: str | None = None,
    channel: str | None = None,
    score: int | None = None,
    opened_at: datetime | None = None,
) -> Rectification:
    """Open a case for the responsible department and ask supervision for its clock."""
    case = Rectification(
        rectification_id=new_id("RC"),
        origin=origin,
        review_id=review_id,
        inspection_id=inspection_id,
        department=department,
        window=window,
        application_no=application_no,
        item_code=item_code,
        channel=channel,
        score=score,
        complaint=complaint,
        status="open",
        due_working_days=settings.rectification_due_working_days,
        opened_at=opened_at or clock_of(session).now(),
    )
    repository.add(session, case)
    await outbox.add(
        session,
        RectificationOpened(
            rectification_id=case.rectification_id,
            origin="review" if origin == "review" else "inspection",
            department=department,
            window=window,
            application_no=application_no,
            due_working_days=case.due_working_days,
            opened_at=case.opened_at,
            review_id=review_id,
            inspection_id=inspection_id,
            item_code=item_code,
        ),
    )
    return case


def may_see(principal: Principal, case: Rectification) -> bool:
    """Supervisors see every case; staff of a department see that department's."""
    if principal.has_role(*OVERSIGHT):
        return True
    return principal.is_staff and principal.department is not None and principal.department == case.department


async def is_rater(session: AsyncSession, principal: Principal, case: Rectification) -> bool:
    """True when the caller is the applicant whose review opened the case."""
    if principal.is_staff or not principal.id_number or case.review_id is None:
        return False
    review = await reviews.get(session, case.review_id)
    return review is not None and review.rater_id_number == principal.id_number


async def load(session: AsyncSession, rectification_id: str, *, for_update: bool = False) -> Rectification:
    """A case or 404."""
    case = await (repository.get_for_update if for_update else repository.get)(session, rectification_id)
    if case is None:
        raise NotFound(f"No rectification {rectification_id}.")
    return case


async def record_visit(
    session: AsyncSession, *, case: Rectification, principal: Principal, account: str, confirmed: bool | None
) -> Rectification:
    """The return visit: the applicant's account, told by them or taken down by a supervisor."""
    if principal.has_role(*OVERSIGHT):
        by = principal.username or principal.subject_id
    elif await is_rater(session, principal, case):
        by = "applicant"
    else:
        raise Forbidden("Only the person who rated, or a supervisor, records the return visit.")
    if case.status in CLOSED:
        raise Conflict(f"The case is already {case.status}.")
    case.visit_account = account
    case.visit_confirmed = confirmed
    case.visited_at = clock_of(session).now()
    case.visited_by = by
    return case


async def appeal(session: AsyncSession, *, case: Rectification, principal: Principal, reason: str) -> Rectification:
    """The department contests a malicious or mistaken review; a supervisor decides."""
    if not (principal.is_staff and principal.department == case.department):
        raise Forbidden("Only the department concerned may appeal its case.")
    if case.origin != "review":
        raise Unprocessable("Only a review can be appealed; an inspection finding is not.")
    if case.status != "open":
        raise Conflict(f"The case is {case.status}: it cannot be appealed now.")
    if case.appeal_decision is not None:
        raise Conflict("This case was appealed already.")
    case.status = "appealed"
    case.appeal_reason = reason
    case.appealed_by = principal.username or principal.subject_id
    case.appealed_at = clock_of(session).now()
    return case


async def decide_appeal(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    case: Rectification,
    principal: Principal,
    decision: str,
    opinion: str,
) -> Rectification:
    """Upheld: the review is annulled and the case closes; dismissed: the case goes on."""
    if case.status != "appealed":
        raise Conflict("The case has no appeal waiting for a decision.")
    case.appeal_decision = decision
    case.appeal_opinion = opinion
    case.appeal_decided_by = principal.username or principal.subject_id
    case.appeal_decided_at = clock_of(session).now()
    if decision == "dismissed":
        case.status = "open"
        return case
    if case.review_id is not None:
        await rollup.annul(session, review_id=case.review_id)
    await _close(session, settings=settings, case=case, status="annulled", result=opinion)
    return case


async def record_result(
    session: AsyncSession, *, settings: RatingSettings, case: Rectification, principal: Principal, result: str
) -> Rectification:
    """The department rectified: record the result, close the case and publish the outcome."""
    if not (principal.has_role(*OVERSIGHT) or (principal.is_staff and principal.department == case.department)):
        raise Forbidden("Only the department concerned or a supervisor records the result.")
    if case.status == "appealed":
        raise Conflict("The case waits for the supervisor's decision on its appeal.")
    if case.status in CLOSED:
        raise Conflict(f"The case is already {case.status}.")
    case.result_by = principal.username or principal.subject_id
    await _close(session, settings=settings, case=case, status="rectified", result=result)
    return case


def _on_time_by_due_date(closed_at: datetime, due_date: date | None, settings: RatingSettings) -> bool | None:
    if due_date is None:
        return None
    return local_date(closed_at, settings) <= due_date


async def _close(
    session: AsyncSession, *, settings: RatingSettings, case: Rectification, status: str, result: str
) -> None:
    now = clock_of(session).now()
    case.status = status
    case.result = result
    case.closed_at = now
    if status == "rectified":
        # Provisional until approval's clock.closed says (its calendar is the authority).
        if case.on_time is None:
            case.on_time = _on_time_by_due_date(now, case.due_date, settings)
        if case.review_id is not None:
            await rollup.rectified(session, review_id=case.review_id, on_time=case.on_time)
    await outbox.add(
        session,
        RectificationClosed(
            rectification_id=case.rectification_id,
            department=case.department,
            outcome="rectified" if status == "rectified" else "annulled",
            closed_at=now,
            result=result,
        ),
    )


# --- approval's supervision engine drives the clock ------------------------------------------


async def apply_clock_opened(session: AsyncSession, *, data: ClockOpened) -> None:
    """Supervision started the case's clock: keep its id and due date."""
    case = await repository.get_for_update(session, data.ref)
    if case is None:
        raise RetryLater(f"rectification {data.ref} is not known")
    case.clock_id = data.clock_id
    case.due_date = data.due_date


async def apply_clock_rescheduled(session: AsyncSession, *, data: ClockRescheduled) -> None:
    """Supervision moved the case's due date."""
    case = await repository.get_for_update(session, data.ref)
    if case is None:
        raise RetryLater(f"rectification {data.ref} is not known")
    case.clock_id = case.clock_id or data.clock_id
    case.due_date = data.due_date


async def apply_card(session: AsyncSession, *, data: CardRaised) -> None:
    """A yellow or red card on the case's clock (red stays red)."""
    case = await repository.get_for_update(session, data.ref)
    if case is None:
        raise RetryLater(f"rectification {data.ref} is not known")
    case.clock_id = case.clock_id or data.clock_id
    case.due_date = case.due_date or data.due_date
    if case.card != "red":
        case.card = data.color
        case.card_raised_at = data.raised_at


async def apply_clock_closed(session: AsyncSession, *, data: ClockClosed) -> None:
    """Supervision stopped the clock and says whether the case closed in time."""
    case = await repository.get_for_update(session, data.ref)
    if case is None:
        raise RetryLater(f"rectification {data.ref} is not known")
    case.on_time = data.on_time
    if case.status == "rectified" and case.review_id is not None:
        await rollup.rectified(session, review_id=case.review_id, on_time=data.on_time)


def cursor_key(case: Rectification) -> list[JsonValue]:
    """The keyset position of a case in the list."""
    return [case.opened_at.isoformat(), case.rectification_id]
