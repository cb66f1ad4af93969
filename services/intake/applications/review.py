"""Pre-review at the window: the applicant submits, the clerk accepts (missing non-critical
materials deferred: 容缺), returns the application for correction, or refuses it.

Each decision is published; acceptance hands the application to approval, which sets every
status after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.contracts.common import DeferredMaterial, ItemSnapshot
from owkernel.contracts.intake import (
    ApplicationAccepted,
    ApplicationNotAccepted,
    ApplicationReturned,
    ApplicationSubmitted,
)
from owkernel.errors import Conflict, Unprocessable, field_error
from owkernel.kernel import clock_of
from services.intake.applications import repository
from services.intake.applications.access import ensure_can_act, load
from services.intake.applications.events import applicant_of, delivery_of, suspend
from services.intake.applications.models import (
    Application,
    ApplicationFacts,
    ApplicationMaterial,
    MaterialFacts,
    TimelineFacts,
)
from services.intake.applications.reading import Step, material_name
from services.intake.applications.schemas import AcceptanceIn
from services.intake.common import local_today
from services.intake.db import outbox
from services.intake.halls import service as halls
from services.intake.projects import repository as projects_repo
from services.intake.settings import IntakeSettings

Spec = dict[str, Any]


SUBMITTABLE = ("draft", "returned")


async def submit(session: AsyncSession, *, principal: Principal, no: str) -> Step:
    """Submit for pre-review at the window; every critical material must be there."""
    now = clock_of(session).now()
    # One statement moves a draft (or a returned one) and locks it; a refusal below rolls it back.
    moved: dict[str, Any] = {"status": "submitted", "submitted_at": now, "updated_at": now}
    app = await repository.change_by_no(session, no, moved, statuses=SUBMITTABLE)
    if app is None:
        app = await _changing(session, principal, no, moved, allowed=SUBMITTABLE, refused=_not_submittable)
    else:
        await ensure_can_act(session, principal, app)
    rows = await repository.materials_of(session, app.id)
    _critical_uploaded(app, rows)
    earlier = await repository.timeline_of(session, app.id)
    # Submitted before: it came back for correction (the status it had is gone with the change).
    resubmitted = any(e.event == "intake.application.submitted" for e in earlier)
    await outbox.add(
        session,
        ApplicationSubmitted(
            application_no=app.application_no,
            item_code=app.item_code,
            item_version=app.item_version,
            applicant=applicant_of(app),
            hall=app.hall,
        ),
    )
    entry = await repository.add_timeline(
        session,
        app.id,
        at=now,
        event="intake.application.submitted",
        detail={"by": principal.display, "resubmitted": resubmitted},
    )
    return Step(app=app, materials=rows, timeline=_in_order(earlier, entry))


def _not_submittable(app: Application) -> Conflict:
    return Conflict(
        f"Application {app.application_no} is {app.status}; only a draft or a returned one is submitted.",
        code="application_not_submittable",
        application_status=app.status,
    )


async def _changing(
    session: AsyncSession,
    principal: Principal | None,
    no: str,
    values: dict[str, Any],
    *,
    allowed: tuple[str, ...],
    refused: Callable[[Application], Conflict],
) -> Application:
    """The application a step's one UPDATE did not change: read (and locked) to say why (404, 403
    when ``principal`` may not act on it, 409), or changed now if it became ``allowed`` meanwhile."""
    app = await load(session, no, for_update=True)
    if principal is not None:
        await ensure_can_act(session, principal, app)
    if app.status not in allowed:
        raise refused(app)
    for name, value in values.items():
        setattr(app, name, value)
    return app


def _in_order(earlier: list[TimelineFacts], entry: TimelineFacts) -> list[TimelineFacts]:
    """The timeline read before a step with the step's entry, in the order ``timeline_of`` reads
    (time, then id: the new entry's id is the highest, and the sort is stable)."""
    return sorted([*earlier, entry], key=lambda e: e.at)


def _critical_uploaded(app: ApplicationFacts, rows: list[MaterialFacts]) -> None:
    """422 naming every critical material the item asks for that has no file yet."""
    uploaded = {m.code for m in rows if m.sha256}
    missing = [
        m["code"] for m in app.item.get("materials", []) if m.get("critical", True) and m["code"] not in uploaded
    ]
    if missing:
        raise Unprocessable(
            f"Critical materials are missing: {', '.join(missing)}.",
            code="critical_materials_missing",
            errors=[
                field_error(
                    f"materials.{c}",
                    "critical material missing",
                    "critical_material_missing",
                    material_code=c,
                    material_name=material_name(app, c),
                )
                for c in missing
            ],
        )


async def decide_acceptance(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, no: str, data: AcceptanceIn
) -> Step:
    """The clerk's pre-review: accept (with 容缺), return for correction, or refuse with a reason."""
    clerk = principal.username or principal.display
    if data.decision in ("return", "reject"):
        app = await load(session, no, for_update=True)
        if app.status != "submitted":
            raise _not_submitted(app)
        return await _send_back(session, app, clerk=clerk, refuse=data.decision == "reject", reason=data.reason)
    now = clock_of(session).now()
    # Accepted at the accepting clerk's hall, wherever it was made.
    hall = halls.staff_hall(principal)
    # One statement accepts a submitted application and locks it; a refusal below rolls it back.
    accepted: dict[str, Any] = {
        "status": "accepted",
        "accepted_at": now,
        "updated_at": now,
        "clerk": clerk,
        "accepted_hall": hall,
        "reason": None,
    }
    changed = await repository.change_by_no(session, no, accepted, statuses=("submitted",))
    if changed is None:
        changed = await _changing(session, None, no, accepted, allowed=("submitted",), refused=_not_submitted)
    return await _accept(
        session,
        settings=settings,
        app=changed,
        clerk=clerk,
        hall=hall,
        deferred_codes=data.deferred_materials,
        now=now,
    )


def _not_submitted(app: Application) -> Conflict:
    return Conflict(
        f"Application {app.application_no} is {app.status}; only a submitted application is pre-reviewed.",
        code="application_not_submitted",
        application_status=app.status,
    )


async def _send_back(session: AsyncSession, app: Application, *, clerk: str, refuse: bool, reason: str) -> Step:
    """Return the application for correction, or refuse it (not accepted): either with a reason."""
    if not reason:
        raise Unprocessable(
            "Say why: a reason is required.",
            code="reason_required",
            errors=[field_error("body.reason", "required", "missing")],
        )
    now = clock_of(session).now()
    app.reason = reason
    app.clerk = clerk
    app.updated_at = now
    if refuse:
        app.status = "not_accepted"
        await outbox.add(session, ApplicationNotAccepted(application_no=app.application_no, reason=reason, clerk=clerk))
        event = "intake.application.not_accepted"
    else:
        app.status = "returned"
        await outbox.add(session, ApplicationReturned(application_no=app.application_no, reason=reason, clerk=clerk))
        event = "intake.application.returned"
    await repository.add_timeline(session, app.id, at=now, event=event, detail={"clerk": clerk, "reason": reason})
    return Step(app=app)


async def _accept(
    session: AsyncSession,
    *,
    settings: IntakeSettings,
    app: ApplicationFacts,
    clerk: str,
    hall: str,
    deferred_codes: list[str],
    now: datetime,
) -> Step:
    """Accept (the application is accepted already, in this transaction): every critical material
    there, every missing non-critical one deferred until ``due``."""
    specs = {m["code"]: m for m in app.item.get("materials", [])}
    existing = await repository.materials_of(session, app.id)
    rows = {m.code: m for m in existing}
    provided = {code for code, row in rows.items() if row.sha256}
    _acceptable(specs, provided, deferred_codes)
    await _previous_stage_approved(session, app)
    due = local_today(settings, now) + timedelta(days=settings.supplement_days)
    # Every missing non-critical material is deferred (容缺), listed by the clerk or not.
    deferred = [specs[c] for c in specs if c not in provided]
    added = _defer(session, app, deferred, rows, due=due)
    await _publish_accepted(session, app, deferred, clerk=clerk, hall=hall, due=due, at=now)
    earlier = await repository.timeline_of(session, app.id)
    entry = await repository.add_timeline(
        session,
        app.id,
        at=now,
        event="intake.application.accepted",
        detail={"clerk": clerk, "deferred_materials": [s["code"] for s in deferred]},
    )
    timeline = _in_order(earlier, entry)
    # 容缺 never stops the flow: the clocks run while deferred materials are outstanding (approval
    # holds the certificate until the last arrives). Only the unpaid fee is a wait.
    if app.payment_status == "unpaid":
        wait = await suspend(
            session, app, key="payment", reason="unpaid_fee", at=now, detail={"amount_fen": app.fee_fen}
        )
        if wait is not None:
            timeline = _in_order(timeline, wait)
    # The new rows take ids after the existing ones, in the order they were added (one flush).
    return Step(app=app, materials=[*(rows[m.code] for m in existing), *added], timeline=timeline)


def _acceptable(specs: dict[str, Spec], provided: set[str], deferred_codes: list[str]) -> None:
    """422 listing why the application cannot be accepted as it stands: a deferral the clerk asked
    for that cannot be, or a critical material that is missing and not (wrongly) deferred."""
    errors: list[dict[str, Any]] = []

    def problem(field: str, code: str, message: str, kind: str) -> dict[str, Any]:
        name = specs[code].get("name", code) if code in specs else None
        return field_error(field, f"{code}: {message}", kind, material_code=code, material_name=name)

    for code in dict.fromkeys(deferred_codes):
        if code not in specs:
            errors.append(problem("body.deferred_materials", code, "the item has no such material", "material_unknown"))
        elif specs[code].get("critical", True):
            errors.append(
                problem(
                    "body.deferred_materials",
                    code,
                    "a critical material cannot be deferred",
                    "critical_material_not_deferrable",
                )
            )
        elif code in provided:
            errors.append(problem("body.deferred_materials", code, "already provided", "material_already_provided"))
    missing_critical = [c for c, s in specs.items() if s.get("critical", True) and c not in provided]
    for code in missing_critical:
        if code not in deferred_codes:
            errors.append(problem("materials", code, "a critical material is missing", "critical_material_missing"))
    if errors:
        raise Unprocessable(
            "The application cannot be accepted as it stands.", code="acceptance_refused_as_it_stands", errors=errors
        )


def _defer(
    session: AsyncSession,
    app: ApplicationFacts,
    deferred: list[Spec],
    rows: dict[str, MaterialFacts],
    *,
    due: date,
) -> list[ApplicationMaterial]:
    """Mark each deferred material due on ``due``; the rows made for those never uploaded, in order.

    A row read before (``rows``) is replaced there by the object that changes it."""
    added: list[ApplicationMaterial] = []
    for spec in deferred:
        read = rows.get(spec["code"])
        if read is None:
            row = ApplicationMaterial(
                application_id=app.id, code=spec["code"], name=spec.get("name", spec["code"]), critical=False
            )
            session.add(row)
            added.append(row)
        else:
            row = rows[spec["code"]] = repository.held_material(session, read)
        row.is_deferred = True
        row.due_date = due
    return added


async def _publish_accepted(
    session: AsyncSession,
    app: ApplicationFacts,
    deferred: list[Spec],
    *,
    clerk: str,
    hall: str,
    due: date,
    at: datetime,
) -> None:
    """Tell approval (and the figures) the application was accepted, with what it still waits for."""
    # The figures count a project's investment once, from its applications: intake knows it.
    project = await projects_repo.get_project(session, app.project_no) if app.project_no else None
    await outbox.add(
        session,
        ApplicationAccepted(
            application_no=app.application_no,
            applicant=applicant_of(app),
            item=ItemSnapshot.model_validate(app.item),
            window=app.window,
            clerk=clerk,
            accepted_at=at,
            hall=hall,
            project_no=app.project_no,
            stage=app.stage,
            deferred_materials=[
                DeferredMaterial(code=s["code"], name=s.get("name", s["code"]), due_date=due) for s in deferred
            ],
            delivery=delivery_of(app),
            channel="online" if app.channel == "online" else "window",
            project_investment_fen=project.investment_fen if project is not None else None,
            project_key=project.key_project if project is not None else None,
        ),
    )


async def _previous_stage_approved(session: AsyncSession, app: ApplicationFacts) -> None:
    """409 when the application is a project's later stage and the stage before is not approved yet."""
    if app.project_no is None or app.stage is None or app.stage <= 1:
        return
    project = await projects_repo.get_project(session, app.project_no)
    assert project is not None
    previous = await projects_repo.get_stage(session, project.id, app.stage - 1)
    prior = None
    if previous is not None and previous.application_id is not None:
        prior = (await repository.get_by_ids(session, [previous.application_id])).get(previous.application_id)
    if prior is None or prior.status not in ("approved", "completed"):
        raise Conflict(
            f"Stage {app.stage} of project {app.project_no} is accepted only after stage {app.stage - 1} is approved."
        )
