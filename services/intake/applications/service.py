"""Application rules: who may act, one-window acceptance with 容缺, and every step published.

Service functions receive the session and never commit; every event goes through the outbox in
the caller's transaction. Intake sets the first statuses (draft to accepted or not accepted);
the other services' events set the rest (``reactions``), and never take an application back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.contracts.common import Address, Applicant, DeferredMaterial, DeliveryChoice, ItemSnapshot
from owkernel.contracts.intake import (
    ApplicationAccepted,
    ApplicationNotAccepted,
    ApplicationResumed,
    ApplicationReturned,
    ApplicationSubmitted,
    ApplicationSuspended,
    MaterialSupplemented,
    SuspensionReason,
    VisitRecorded,
)
from owkernel.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Problem, Unprocessable, field_error
from owkernel.halls import CITY_HALL
from services.intake.applications import repository
from services.intake.applications.models import Application, ApplicationMaterial, Suspension, TimelineEntry
from services.intake.applications.schemas import (
    AcceptanceIn,
    ApplicantOut,
    ApplicationCreate,
    ApplicationSummary,
    ApplicationView,
    CertificateOut,
    DeferredOut,
    MaterialOut,
    PaymentOut,
    TimelineOut,
)
from services.intake.catalog import service as catalog
from services.intake.catalog.models import CatalogItem
from services.intake.common import WINDOW_LETTER, applicant_kind, local_today, sees_everything, utcnow
from services.intake.db import outbox
from services.intake.halls import service as halls
from services.intake.projects import repository as projects_repo
from services.intake.projects.models import Project
from services.intake.settings import IntakeSettings
from services.intake.storage import FileStorage, StoredFile, content_address, sniff_content_type


class UnsupportedMediaType(Problem):
    """415: an upload that is not a PDF, JPEG or PNG by its content."""

    status = 415


# The applications whose materials count against the applicant's storage quota: those no clerk
# has decided on yet. What one caller alone can make us store is bounded by the quota; a file
# on an application a clerk accepted or refused is the hall's record, and the applicant cannot
# delete it to make room.
UNDECIDED = ("draft", "submitted", "returned")


# --- who may do what ------------------------------------------------------------------------


def _agency_officer_of(project: Project | None, principal: Principal) -> bool:
    return (
        project is not None
        and principal.is_staff
        and project.agency_officer is not None
        and project.agency_officer == principal.username
    )


async def _project_of(session: AsyncSession, app: Application) -> Project | None:
    if app.project_no is None:
        return None
    return await projects_repo.get_project(session, app.project_no)


async def ensure_can_read(session: AsyncSession, principal: Principal, app: Application) -> None:
    """Its applicant, the clerks and overseers, the departments it is routed to, its agency officer."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is not None and principal.id_number == app.applicant_id_number:
            return
        raise Forbidden("This application belongs to someone else.", code="application_of_someone_else")
    if sees_everything(principal):
        return
    if (
        principal.has_role("approver")
        and principal.department
        and principal.department in await repository.departments_of(session, app.id)
    ):
        return
    if _agency_officer_of(await _project_of(session, app), principal):
        return
    raise Forbidden("This application is not routed to you.", code="application_not_routed_to_you")


async def ensure_can_act(session: AsyncSession, principal: Principal, app: Application) -> bool:
    """The applicant, a window clerk or the project's agency officer; True when staff act for them."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is not None and principal.id_number == app.applicant_id_number:
            return False
        raise Forbidden("This application belongs to someone else.", code="application_of_someone_else")
    if principal.has_role("clerk"):
        return True
    if _agency_officer_of(await _project_of(session, app), principal):
        return True
    raise Forbidden(
        "Only the applicant, a window clerk or the project's agency officer may do this.",
        code="applicant_clerk_or_agent_only",
    )


async def load(session: AsyncSession, no: str, *, for_update: bool = False) -> Application:
    """An application by number, or 404."""
    app = await repository.get_by_no(session, no, for_update=for_update)
    if app is None:
        raise NotFound(f"No application {no}.", code="application_not_found", application_no=no)
    return app


@dataclass(frozen=True)
class Step:
    """An application a step just changed, and what of it the step read, for ``view`` to reuse.

    ``materials`` is every material row in id order, ``timeline`` every entry in timeline order;
    None where the step did not read them all.
    """

    app: Application
    materials: list[ApplicationMaterial] | None = None
    timeline: list[TimelineEntry] | None = None


# --- events -----------------------------------------------------------------------------------


def applicant_of(app: Application) -> Applicant:
    """The applicant as events carry it."""
    kind: Literal["person", "enterprise"] = "enterprise" if app.applicant_kind == "enterprise" else "person"
    return Applicant(
        id_number=app.applicant_id_number,
        kind=kind,
        name=app.applicant_name,
        phone=app.applicant_phone,
        subject_id=app.applicant_subject_id,
    )


def delivery_of(app: Application) -> DeliveryChoice:
    """The delivery choice as events carry it."""
    address = app.delivery.get("address")
    return DeliveryChoice(
        method="mail" if app.delivery.get("method") == "mail" else "window",
        address=Address.model_validate(address) if address else None,
    )


def item_snapshot(item: CatalogItem) -> dict[str, Any]:
    """The version of the item an application keeps: ItemSnapshot's fields plus materials."""
    return {
        "code": item.code,
        "version": item.version,
        "name": item.name,
        "kind": item.kind,
        "department": item.department,
        # The deciding departments: one element for a single-department item.
        "departments": list(item.departments) or [item.department],
        "lead_department": item.lead_department or item.department,
        "window": item.window,
        "legal_days": item.legal_days,
        "committed_days": item.committed_days,
        "trips": item.trips,
        "fee_fen": item.fee_fen,
        "online": item.online,
        "stage": item.stage,
        "secret": bool(item.secret),
        "materials": list(item.materials),
    }


async def suspend(
    session: AsyncSession, app: Application, *, key: str, reason: SuspensionReason, at: datetime, detail: dict[str, Any]
) -> None:
    """Start a wait for the applicant (once per key) and tell approval to stop the clock."""
    if await repository.get_suspension(session, app.id, key) is not None:
        return
    session.add(Suspension(application_id=app.id, key=key, reason=reason, started_at=at))
    await outbox.add(session, ApplicationSuspended(application_no=app.application_no, key=key, reason=reason, at=at))
    await repository.add_timeline(
        session, app.id, at=at, event="intake.application.suspended", detail={"key": key, "reason": reason, **detail}
    )


async def resume(session: AsyncSession, app: Application, *, key: str, at: datetime) -> None:
    """End a wait that is open under ``key`` and tell approval to run the clock again."""
    suspension = await repository.get_suspension(session, app.id, key)
    if suspension is None or suspension.ended_at is not None:
        return
    suspension.ended_at = at
    await outbox.add(session, ApplicationResumed(application_no=app.application_no, key=key, at=at))
    await repository.add_timeline(session, app.id, at=at, event="intake.application.resumed", detail={"key": key})


async def record_visit(
    session: AsyncSession,
    settings: IntakeSettings,
    *,
    id_number: str,
    kind: Literal["window", "appointment", "pickup"],
    window: str | None,
    application_no: str | None,
    item_code: str | None,
    at: datetime,
    hall: str | None = None,
) -> None:
    """Record and publish a trip the applicant actually made (to ``hall``, where known)."""
    repository.add_visit(
        session,
        id_number=id_number,
        kind=kind,
        window=window,
        application_no=application_no,
        item_code=item_code,
        at=at,
        day=local_today(settings, at),
    )
    await outbox.add(
        session,
        VisitRecorded(
            id_number=id_number,
            kind=kind,
            window=window if window in ("investment", "commercial", "general") else None,
            application_no=application_no,
            item_code=item_code,
            at=at,
            hall=hall,
        ),
    )


async def _hall_of(
    session: AsyncSession, *, principal: Principal, data: ApplicationCreate, channel: str, item: CatalogItem
) -> str:
    """The hall an application is made at: the one named, else the clerk's at a window, else the city's.

    It must be a registered hall where the item is offered (an item without halls is offered everywhere).
    """
    if data.hall is not None:
        hall = data.hall
    elif channel == "window" and principal.is_staff:
        hall = halls.staff_hall(principal)
    else:
        hall = CITY_HALL
    await halls.require_known(session, hall, field="body.hall")
    if item.halls and hall not in item.halls:
        raise Unprocessable(
            f"Item {item.code} is not offered at hall {hall} (only at {', '.join(item.halls)}).",
            code="item_not_offered_at_hall",
            errors=[
                {
                    "field": "body.hall",
                    "message": "the item is not offered at this hall",
                    "type": "value_error",
                    "code": "item_not_offered_at_hall",
                    "params": {"item_code": item.code, "item_name": item.name, "hall": hall, "halls": list(item.halls)},
                }
            ],
        )
    return hall


# --- the applicant's and the clerk's steps ----------------------------------------------------


@dataclass(frozen=True)
class _Who:
    id_number: str
    kind: Literal["person", "enterprise"]
    name: str
    phone: str | None
    subject_id: str | None
    channel: Literal["online", "window"]


async def _who_applies(
    session: AsyncSession, principal: Principal, data: ApplicationCreate, project: Project | None
) -> _Who:
    fallback_phone = data.delivery.address.phone if data.delivery.address else None
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        if data.applicant_id_number is not None and data.applicant_id_number != principal.id_number:
            raise Forbidden("An applicant applies for themselves; a window clerk applies on behalf of others.")
        kind: Literal["person", "enterprise"] = "enterprise" if principal.kind == "enterprise" else "person"
        return _Who(
            id_number=principal.id_number,
            kind=kind,
            name=data.applicant_name or principal.name or "",
            phone=data.applicant_phone or fallback_phone,
            subject_id=principal.subject_id,
            channel="online",
        )
    if _agency_officer_of(project, principal) and not principal.has_role("clerk"):
        assert project is not None
        if data.applicant_id_number not in (None, project.owner_id_number):
            raise Forbidden("An agency officer applies for the project's own applicant only.")
        owner_kind: Literal["person", "enterprise"] = "enterprise" if project.owner_kind == "enterprise" else "person"
        return _Who(
            id_number=project.owner_id_number,
            kind=owner_kind,
            name=project.owner_name,
            phone=data.applicant_phone or fallback_phone,
            subject_id=project.owner_subject_id,
            channel="window",
        )
    if not principal.has_role("clerk"):
        raise Forbidden("Staff apply only as window clerks, on behalf of an applicant.")
    if data.applicant_id_number is None:
        raise Unprocessable(
            "A clerk applies on behalf of someone: give applicant_id_number.",
            code="applicant_id_number_required",
            errors=[field_error("body.applicant_id_number", "required for a clerk", "missing")],
        )
    kind = applicant_kind(data.applicant_id_number, data.applicant_kind, field="body.applicant_id_number")
    known = await repository.known_applicant(session, data.applicant_id_number)
    return _Who(
        id_number=data.applicant_id_number,
        kind=kind,
        name=data.applicant_name or (known.applicant_name if known else ""),
        phone=data.applicant_phone or (known.applicant_phone if known else None) or fallback_phone,
        subject_id=known.applicant_subject_id if known else None,
        channel="window",
    )


async def create_application(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, data: ApplicationCreate
) -> Step:
    """A draft under the item's current version, with its unified application number."""
    project = None
    if data.project_no is not None:
        project = await projects_repo.get_project(session, data.project_no, for_update=True)
        if project is None:
            raise Unprocessable(
                f"There is no project {data.project_no}.",
                code="project_unknown",
                errors=[
                    field_error("body.project_no", "unknown project", "project_unknown", project_no=data.project_no)
                ],
            )
    who = await _who_applies(session, principal, data, project)
    await _within_drafts_cap(session, settings, who.id_number)
    item = await catalog.item_for_application(session, code=data.item_code)
    hall = await _hall_of(session, principal=principal, data=data, channel=who.channel, item=item)
    stage_row = None
    if project is not None:
        if project.owner_id_number != who.id_number:
            raise Forbidden("The project belongs to another applicant.")
        stages = await projects_repo.stages_of(session, project.id)
        stage_row = next((s for s in stages if s.item_code == item.code), None)
        if stage_row is None:
            raise Unprocessable(
                f"Item {item.code} is not a stage of project {project.project_no}.",
                code="item_not_a_project_stage",
                errors=[
                    field_error(
                        "body.item_code",
                        "not a stage of the project",
                        "item_not_a_project_stage",
                        item_code=item.code,
                        item_name=item.name,
                        project_no=project.project_no,
                    )
                ],
            )
        if stage_row.application_id is not None:
            current = (await repository.get_by_ids(session, [stage_row.application_id])).get(stage_row.application_id)
            if current is not None and current.status not in ("not_accepted", "rejected"):
                raise Conflict(
                    f"Stage {stage_row.stage} of project {project.project_no} already has application "
                    f"{current.application_no}."
                )
    now = utcnow()
    letter = WINDOW_LETTER[item.window]
    year = local_today(settings, now).year
    seq = await repository.next_sequence(session, f"app-{year}-{letter}")
    snapshot = item_snapshot(item)
    app = Application(
        application_no=f"{year}-{letter}-{seq:06d}",
        status="draft",
        item_code=item.code,
        item_version=item.version,
        item_name=item.name,
        item_trips=item.trips,
        item=snapshot,
        window=item.window,
        department=item.department,
        channel=who.channel,
        hall=hall,
        applicant_id_number=who.id_number,
        applicant_kind=who.kind,
        applicant_name=who.name,
        applicant_phone=who.phone,
        applicant_subject_id=who.subject_id,
        created_by=principal.display,
        form=dict(data.form),
        delivery=data.delivery.model_dump(mode="json"),
        project_no=project.project_no if project else None,
        stage=stage_row.stage if stage_row else None,
        fee_fen=item.fee_fen,
        payment_status="unpaid" if item.fee_fen > 0 else "not_required",
        created_at=now,
        updated_at=now,
    )
    session.add(app)
    await session.flush()
    await repository.add_departments(session, app.id, snapshot["departments"])
    if stage_row is not None:
        stage_row.application_id = app.id
    created = await repository.add_timeline(
        session,
        app.id,
        at=now,
        event="intake.application.created",
        detail={"channel": who.channel, "by": principal.display, "item_version": item.version},
    )
    if who.channel == "window":
        await record_visit(
            session,
            settings,
            id_number=who.id_number,
            kind="window",
            window=item.window,
            application_no=app.application_no,
            item_code=item.code,
            at=now,
            hall=hall,
        )
    # A new application has no materials yet, and its timeline is the one entry just made.
    return Step(app=app, materials=[], timeline=[created])


async def _within_drafts_cap(session: AsyncSession, settings: IntakeSettings, id_number: str) -> None:
    """409 when the applicant already keeps the most open drafts allowed."""
    await repository.lock_applicant(session, id_number)
    drafts = await repository.count_drafts(session, id_number)
    if drafts >= settings.max_open_drafts:
        raise Conflict(
            f"This applicant already has {drafts} open drafts, the most one applicant may keep. Submit one, "
            "or delete drafts no longer needed (DELETE /api/v1/applications/{no}), then start again.",
            title="Too many open drafts",
            code="open_drafts_limit",
            max_open_drafts=settings.max_open_drafts,
            open_drafts=drafts,
        )


async def _within_quota(
    session: AsyncSession, settings: IntakeSettings, app: Application, *, size: int, replacing: int | None
) -> None:
    """409 when a file of ``size`` bytes would take the applicant past their storage quota.

    409 and not 413: the file itself is acceptable (413 says that one file is too big, and a
    smaller one would not help here); what stands in the way is what the applicant already
    keeps, and they resolve it by deleting drafts, as RFC 9110 describes 409.
    """
    await repository.lock_applicant(session, app.applicant_id_number)
    used = await repository.stored_bytes(session, app.applicant_id_number, statuses=UNDECIDED, excluding=replacing)
    quota = settings.applicant_storage_quota_bytes
    if used + size > quota:
        raise Conflict(
            f"This applicant's applications not yet decided at the window already hold {used} bytes of materials; "
            f"this file of {size} bytes would pass the quota of {quota} bytes. Delete drafts no longer needed "
            "(DELETE /api/v1/applications/{no}), or wait for the window's decision on submitted ones, "
            "then upload again.",
            title="Storage quota reached",
            code="materials_quota_exceeded",
            quota_bytes=quota,
            used_bytes=used,
        )


async def _store(session: AsyncSession, storage: FileStorage, data: bytes) -> StoredFile:
    """Write an upload under its file's lock, taken first: the release job cannot delete the file
    between the write and this transaction's commit (it checks for users under the same lock)."""
    # A big file is hashed off the event loop (a 10 MiB scan takes milliseconds); a small one is
    # not worth the thread hop.
    sha256 = content_address(data) if len(data) <= 64 * 1024 else await asyncio.to_thread(content_address, data)
    await repository.lock_file(session, sha256)
    return await storage.put(data, sha256=sha256)


def _spec(app: Application, code: str) -> dict[str, Any]:
    spec = next((m for m in app.item.get("materials", []) if m.get("code") == code), None)
    if spec is None:
        raise NotFound(
            f"Item {app.item_code} v{app.item_version} has no material {code}.",
            code="material_unknown",
            material_code=code,
        )
    return dict(spec)


def _material_name(app: Application, code: str) -> str:
    """The name the item snapshot gives material ``code`` (the code itself when it has none)."""
    spec = next((m for m in app.item.get("materials", []) if m.get("code") == code), None)
    return str(spec.get("name") or code) if spec else code


def check_upload(settings: IntakeSettings, data: bytes) -> str:
    """The content type of an acceptable upload: 413 when too big, 415 when not PDF/JPEG/PNG."""
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"A material may be at most {settings.max_upload_bytes} bytes.",
            code="material_file_too_large",
            max_bytes=settings.max_upload_bytes,
        )
    if not data:
        raise Unprocessable(
            "The file is empty.",
            code="material_file_empty",
            errors=[field_error("file", "empty", "material_file_empty")],
        )
    content_type = sniff_content_type(data)
    if content_type is None:
        raise UnsupportedMediaType(
            "A material must be a PDF, JPEG or PNG file (judged by its content).",
            code="material_file_type",
            allowed=["application/pdf", "image/jpeg", "image/png"],
        )
    return content_type


def _safe_name(filename: str | None) -> str | None:
    if not filename:
        return None
    # Only ever shown back, never used as a path: keep the last component, printable, short.
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:200] or None


async def upload_material(
    session: AsyncSession,
    *,
    settings: IntakeSettings,
    storage: FileStorage,
    principal: Principal,
    no: str,
    code: str,
    data: bytes,
    filename: str | None,
) -> ApplicationMaterial:
    """Attach (or replace) a material while the application is a draft or back for correction."""
    app = await load(session, no, for_update=True)
    await ensure_can_act(session, principal, app)
    if app.status not in ("draft", "returned"):
        raise Conflict(
            f"Application {no} is {app.status}; materials are uploaded before submission.",
            code="application_not_editable",
            application_status=app.status,
        )
    spec = _spec(app, code)
    content_type = check_upload(settings, data)
    material = await repository.get_material(session, app.id, code)
    await _within_quota(session, settings, app, size=len(data), replacing=material.id if material else None)
    stored = await _store(session, storage, data)
    now = utcnow()
    if material is None:
        material = ApplicationMaterial(
            application_id=app.id, code=code, name=spec.get("name", code), critical=bool(spec.get("critical", True))
        )
        session.add(material)
    elif material.sha256 is not None and material.sha256 != stored.sha256:
        # The replaced file goes once this commits (unless another material uses it too).
        await repository.release_files(session, [material.sha256], at=now)
    material.sha256 = stored.sha256
    material.size = stored.size
    material.content_type = content_type
    material.filename = _safe_name(filename)
    material.uploaded_at = now
    material.uploaded_by = principal.display
    app.updated_at = now
    return material


async def delete_draft(session: AsyncSession, *, principal: Principal, no: str) -> None:
    """Delete a draft and release its files (a submitted application is the window's to decide)."""
    app = await load(session, no, for_update=True)
    await ensure_can_act(session, principal, app)
    if app.status != "draft":
        raise Conflict(
            f"Application {no} is {app.status}; only a draft is deleted.",
            code="application_not_a_draft",
            application_status=app.status,
        )
    materials = await repository.materials_of(session, app.id)
    await repository.release_files(session, sorted({m.sha256 for m in materials if m.sha256}), at=utcnow())
    if app.project_no is not None:
        stage = await projects_repo.stage_of_application(session, app.id)
        if stage is not None:
            # The stage takes a new application again.
            stage.application_id = None
            await session.flush()
    await repository.delete_application(session, app.id)


async def submit(session: AsyncSession, *, principal: Principal, no: str) -> Step:
    """Submit for pre-review at the window; every critical material must be there."""
    app = await load(session, no, for_update=True)
    await ensure_can_act(session, principal, app)
    if app.status not in ("draft", "returned"):
        raise Conflict(
            f"Application {no} is {app.status}; only a draft or a returned one is submitted.",
            code="application_not_submittable",
            application_status=app.status,
        )
    rows = await repository.materials_of(session, app.id)
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
                    material_name=_material_name(app, c),
                )
                for c in missing
            ],
        )
    now = utcnow()
    resubmitted = app.status == "returned"
    app.status = "submitted"
    app.submitted_at = now
    app.updated_at = now
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
    await repository.add_timeline(
        session,
        app.id,
        at=now,
        event="intake.application.submitted",
        detail={"by": principal.display, "resubmitted": resubmitted},
    )
    return Step(app=app, materials=rows)


async def _previous_stage_approved(session: AsyncSession, app: Application) -> None:
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


async def decide_acceptance(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, no: str, data: AcceptanceIn
) -> Step:
    """The clerk's pre-review: accept (with 容缺), return for correction, or refuse with a reason."""
    app = await load(session, no, for_update=True)
    if app.status != "submitted":
        raise Conflict(
            f"Application {no} is {app.status}; only a submitted application is pre-reviewed.",
            code="application_not_submitted",
            application_status=app.status,
        )
    now = utcnow()
    clerk = principal.username or principal.display
    if data.decision in ("return", "reject"):
        if not data.reason:
            raise Unprocessable(
                "Say why: a reason is required.",
                code="reason_required",
                errors=[field_error("body.reason", "required", "missing")],
            )
        app.reason = data.reason
        app.clerk = clerk
        app.updated_at = now
        if data.decision == "return":
            app.status = "returned"
            await outbox.add(
                session, ApplicationReturned(application_no=app.application_no, reason=data.reason, clerk=clerk)
            )
            event = "intake.application.returned"
        else:
            app.status = "not_accepted"
            await outbox.add(
                session, ApplicationNotAccepted(application_no=app.application_no, reason=data.reason, clerk=clerk)
            )
            event = "intake.application.not_accepted"
        await repository.add_timeline(
            session, app.id, at=now, event=event, detail={"clerk": clerk, "reason": data.reason}
        )
        return Step(app=app)
    return await _accept(
        session,
        settings=settings,
        app=app,
        clerk=clerk,
        hall=halls.staff_hall(principal),
        deferred_codes=data.deferred_materials,
    )


async def _accept(
    session: AsyncSession,
    *,
    settings: IntakeSettings,
    app: Application,
    clerk: str,
    hall: str,
    deferred_codes: list[str],
) -> Step:
    specs = {m["code"]: m for m in app.item.get("materials", [])}
    existing = await repository.materials_of(session, app.id)
    rows = {m.code: m for m in existing}
    provided = {code for code, row in rows.items() if row.sha256}
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
    await _previous_stage_approved(session, app)
    now = utcnow()
    due = local_today(settings, now) + timedelta(days=settings.supplement_days)
    # Every missing non-critical material is deferred (容缺), listed by the clerk or not.
    deferred = [specs[c] for c in specs if c not in provided]
    added: list[ApplicationMaterial] = []
    for spec in deferred:
        row = rows.get(spec["code"])
        if row is None:
            row = ApplicationMaterial(
                application_id=app.id, code=spec["code"], name=spec.get("name", spec["code"]), critical=False
            )
            session.add(row)
            added.append(row)
        row.is_deferred = True
        row.due_date = due
    app.status = "accepted"
    app.accepted_at = now
    app.updated_at = now
    app.clerk = clerk
    # Accepted at the accepting clerk's hall, wherever it was made.
    app.accepted_hall = hall
    app.reason = None
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
            accepted_at=now,
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
    await repository.add_timeline(
        session,
        app.id,
        at=now,
        event="intake.application.accepted",
        detail={"clerk": clerk, "deferred_materials": [s["code"] for s in deferred]},
    )
    # 容缺 never stops the flow: the clocks run while deferred materials are outstanding (approval
    # holds the certificate until the last arrives). Only the unpaid fee is a wait.
    if app.payment_status == "unpaid":
        await suspend(session, app, key="payment", reason="unpaid_fee", at=now, detail={"amount_fen": app.fee_fen})
    # The new rows take ids after the existing ones, in the order they were added (one flush).
    return Step(app=app, materials=[*existing, *added])


async def supplement(
    session: AsyncSession,
    *,
    settings: IntakeSettings,
    storage: FileStorage,
    principal: Principal,
    no: str,
    code: str,
    data: bytes,
    filename: str | None,
) -> ApplicationMaterial:
    """Supply a deferred material: recorded and published (approval releases a held certificate)."""
    app = await load(session, no, for_update=True)
    on_behalf = await ensure_can_act(session, principal, app)
    _spec(app, code)
    if app.status not in ("accepted", "approved"):
        raise Conflict(
            f"Application {no} is {app.status}; it takes no supplements.",
            code="application_takes_no_supplements",
            application_status=app.status,
        )
    material = await repository.get_material(session, app.id, code)
    if material is None or not material.is_deferred:
        raise Conflict(
            f"Material {code} was not deferred at acceptance; nothing to supplement.",
            code="material_not_deferred",
            material_code=code,
            material_name=_material_name(app, code),
        )
    if material.supplied_at is not None:
        raise Conflict(
            f"Material {code} was already supplied.",
            code="material_already_supplied",
            material_code=code,
            material_name=material.name,
        )
    content_type = check_upload(settings, data)
    stored = await _store(session, storage, data)
    now = utcnow()
    material.sha256 = stored.sha256
    material.size = stored.size
    material.content_type = content_type
    material.filename = _safe_name(filename)
    material.uploaded_at = now
    material.uploaded_by = principal.display
    material.supplied_at = now
    app.updated_at = now
    await outbox.add(session, MaterialSupplemented(application_no=app.application_no, material_code=code, at=now))
    late = material.due_date is not None and local_today(settings, now) > material.due_date
    await repository.add_timeline(
        session,
        app.id,
        at=now,
        event="intake.material.supplemented",
        detail={"material_code": code, "by": principal.display, "late": late},
    )
    if on_behalf and principal.has_role("clerk"):
        await record_visit(
            session,
            settings,
            id_number=app.applicant_id_number,
            kind="window",
            window=app.window,
            application_no=app.application_no,
            item_code=app.item_code,
            at=now,
            hall=halls.staff_hall(principal),
        )
    return material


# --- reading ----------------------------------------------------------------------------------


def material_out(row: ApplicationMaterial | None, spec: dict[str, Any], today: Any) -> MaterialOut:
    """One material's state."""
    code = spec["code"]
    name = spec.get("name", code)
    critical = bool(spec.get("critical", True))
    if row is None:
        return MaterialOut(code=code, name=name, critical=critical, status="missing")
    if row.is_deferred:
        if row.supplied_at is not None:
            status: Literal["missing", "uploaded", "deferred", "supplied", "overdue"] = "supplied"
        elif row.overdue_at is not None or (row.due_date is not None and today > row.due_date):
            status = "overdue"
        else:
            status = "deferred"
    else:
        status = "uploaded" if row.sha256 else "missing"
    return MaterialOut(
        code=code,
        name=name,
        critical=critical,
        status=status,
        sha256=row.sha256,
        size=row.size,
        content_type=row.content_type,
        uploaded_at=row.uploaded_at,
        due_date=row.due_date,
        supplied_at=row.supplied_at,
    )


def applicant_out(app: Application) -> ApplicantOut:
    """Who applied."""
    return ApplicantOut(
        id_number=app.applicant_id_number,
        kind=app.applicant_kind,
        name=app.applicant_name,
        phone=app.applicant_phone,
        subject_id=app.applicant_subject_id,
    )


def payment_out(app: Application) -> PaymentOut:
    """The fee and its payment."""
    amount = app.paid_amount_fen if app.payment_status == "paid" and app.paid_amount_fen is not None else app.fee_fen
    return PaymentOut(
        status=app.payment_status,
        payment_id=app.payment_id,
        amount_fen=amount,
        paid_at=app.paid_at,
    )


async def view(
    session: AsyncSession,
    *,
    settings: IntakeSettings,
    principal: Principal,
    no: str | None = None,
    app: Application | None = None,
    materials: Sequence[ApplicationMaterial] | None = None,
    timeline: Sequence[TimelineEntry] | None = None,
) -> ApplicationView:
    """The whole application, as its applicant or permitted staff see it.

    By number, or ``app`` already loaded in this transaction (a step just taken on it: not read
    again); ``materials`` (every row, id order) and ``timeline`` (every entry, in order) when the
    caller holds them all, else they are read.
    """
    if app is None:
        if no is None:
            raise TypeError("view() needs the application or its number")
        app = await load(session, no)
    await ensure_can_read(session, principal, app)
    if materials is None:
        materials = await repository.materials_of(session, app.id)
    if timeline is None:
        timeline = await repository.timeline_of(session, app.id)
    rows = {m.code: m for m in materials}
    today = local_today(settings)
    shown = [material_out(rows.get(spec["code"]), spec, today) for spec in app.item.get("materials", [])]
    deferred = [
        DeferredOut(
            code=m.code,
            name=m.name,
            due_date=m.due_date,
            supplied_at=m.supplied_at,
            overdue=m.overdue_at is not None
            or (m.supplied_at is None and m.due_date is not None and today > m.due_date),
        )
        for m in rows.values()
        if m.is_deferred
    ]
    return ApplicationView(
        application_no=app.application_no,
        status=app.status,
        item_code=app.item_code,
        item_version=app.item_version,
        item_name=app.item_name,
        item=app.item,
        window=app.window,
        hall=app.hall,
        accepted_hall=app.accepted_hall,
        department=app.department,
        departments=await repository.departments_of(session, app.id, routed=app.item.get("departments")),
        channel=app.channel,
        applicant=applicant_out(app),
        project_no=app.project_no,
        stage=app.stage,
        form=app.form,
        deadline=app.deadline,
        materials=shown,
        deferred_materials=deferred,
        delivery=app.delivery,
        fee_fen=app.fee_fen,
        payment=payment_out(app),
        certificate=CertificateOut.model_validate(app.certificate) if app.certificate else None,
        certificate_waits_for=[]
        if app.certificate or app.status not in ("accepted", "approved")
        else [m.code for m in deferred if m.supplied_at is None],
        clerk=app.clerk,
        reason=app.reason,
        working_days_used=app.working_days_used,
        created_at=app.created_at,
        submitted_at=app.submitted_at,
        accepted_at=app.accepted_at,
        decided_at=app.decided_at,
        completed_at=app.completed_at,
        timeline=[TimelineOut(at=t.at, event=t.event, detail=t.detail) for t in timeline],
    )


def summary(row: RowMapping) -> ApplicationSummary:
    """One line of the list, from a row of ``repository.SUMMARY_COLUMNS``."""
    return ApplicationSummary(
        application_no=row["application_no"],
        status=row["status"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        item_version=row["item_version"],
        window=row["window"],
        hall=row["hall"],
        department=row["department"],
        applicant=ApplicantOut(
            id_number=row["applicant_id_number"],
            kind=row["applicant_kind"],
            name=row["applicant_name"],
            phone=row["applicant_phone"],
            subject_id=row["applicant_subject_id"],
        ),
        project_no=row["project_no"],
        stage=row["stage"],
        deadline=row["deadline"],
        fee_fen=row["fee_fen"],
        payment_status=row["payment_status"],
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        accepted_at=row["accepted_at"],
    )


async def material_file(
    session: AsyncSession, *, storage: FileStorage, principal: Principal, no: str, code: str
) -> tuple[bytes, str]:
    """The stored file of a material and its type."""
    app = await load(session, no)
    await ensure_can_read(session, principal, app)
    _spec(app, code)
    row = await repository.get_material(session, app.id, code)
    if row is None or row.sha256 is None:
        raise NotFound(
            f"Material {code} of application {no} has no file.",
            code="material_has_no_file",
            material_code=code,
            material_name=_material_name(app, code),
        )
    return await storage.get(row.sha256), row.content_type or "application/octet-stream"
