"""The first step: a draft application, for oneself online or by a clerk (or agency officer) for
someone, under the item's current version, at a hall, and as a project's stage where it is one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Conflict, Forbidden, Unprocessable, field_error
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of
from services.intake.applications import repository
from services.intake.applications.access import agency_officer_of
from services.intake.applications.events import record_visit
from services.intake.applications.reading import Step
from services.intake.applications.schemas import ApplicationCreate
from services.intake.catalog import service as catalog
from services.intake.catalog.models import CatalogItem
from services.intake.common import WINDOW_LETTER, applicant_kind, local_today
from services.intake.deps import kernel_of
from services.intake.halls import service as halls
from services.intake.projects import repository as projects_repo
from services.intake.projects.models import Project, ProjectStage
from services.intake.settings import IntakeSettings


@dataclass(frozen=True)
class ItemVersion:
    """What an application copies of one version of an active item.

    The service keeps the last one read of each item (``IntakeState.items``): every application
    reads its item, and a version never changes (every change of an item is a new version).
    """

    code: str
    version: int
    name: str
    window: str
    department: str
    trips: int
    fee_fen: int
    halls: tuple[str, ...]
    snapshot: dict[str, Any]

    def snapshot_copy(self) -> dict[str, Any]:
        """The snapshot a new draft keeps: its own dict and lists (this one is shared by every draft)."""
        return {
            **self.snapshot,
            "departments": list(self.snapshot["departments"]),
            "materials": list(self.snapshot["materials"]),
        }


@dataclass(frozen=True)
class _Who:
    id_number: str
    kind: Literal["person", "enterprise"]
    name: str
    phone: str | None
    subject_id: str | None
    channel: Literal["online", "window"]


async def create_application(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, data: ApplicationCreate
) -> Step:
    """A draft under the item's current version, with its unified application number."""
    project = await _project_named(session, data.project_no)
    who = await _who_applies(session, principal, data, project)
    version = await _within_drafts_cap(session, settings, who.id_number, item_code=data.item_code)
    item = await _item_at(session, data.item_code, version)
    hall = await _hall_of(session, principal=principal, data=data, channel=who.channel, item=item)
    stage = await _open_stage(session, project, who, item) if project is not None else None
    now = clock_of(session).now()
    draft = _draft(
        number=await _next_number(session, settings, item, now),
        item=item,
        who=who,
        hall=hall,
        data=data,
        project=project,
        stage=stage,
        by=principal.display,
        at=now,
    )
    app = await repository.insert_application(session, draft)
    await repository.add_departments(session, app.id, app.item["departments"])
    if stage is not None:
        stage.application_id = app.id
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


def _draft(
    *,
    number: str,
    item: ItemVersion,
    who: _Who,
    hall: str,
    data: ApplicationCreate,
    project: Project | None,
    stage: ProjectStage | None,
    by: str,
    at: datetime,
) -> dict[str, Any]:
    """The new draft's row, the item's version copied into it."""
    return dict(
        application_no=number,
        status="draft",
        item_code=item.code,
        item_version=item.version,
        item_name=item.name,
        item_trips=item.trips,
        # Each draft its own dict and lists (the service's copy is shared by every application).
        item={
            **item.snapshot,
            "departments": list(item.snapshot["departments"]),
            "materials": list(item.snapshot["materials"]),
        },
        window=item.window,
        department=item.department,
        channel=who.channel,
        hall=hall,
        applicant_id_number=who.id_number,
        applicant_kind=who.kind,
        applicant_name=who.name,
        applicant_phone=who.phone,
        applicant_subject_id=who.subject_id,
        created_by=by,
        form=dict(data.form),
        delivery=data.delivery.model_dump(mode="json"),
        project_no=project.project_no if project is not None else None,
        stage=stage.stage if stage is not None else None,
        fee_fen=item.fee_fen,
        payment_status="unpaid" if item.fee_fen > 0 else "not_required",
        created_at=at,
        updated_at=at,
    )


async def _next_number(session: AsyncSession, settings: IntakeSettings, item: ItemVersion, at: datetime) -> str:
    """The unified application number: year, the window's letter, that year's window counter."""
    letter = WINDOW_LETTER[item.window]
    year = local_today(settings, at).year
    seq = await repository.next_sequence(session, f"app-{year}-{letter}")
    return f"{year}-{letter}-{seq:06d}"


async def _project_named(session: AsyncSession, project_no: str | None) -> Project | None:
    """The project an application is made under (locked: its stages take the application), or 422."""
    if project_no is None:
        return None
    project = await projects_repo.get_project(session, project_no, for_update=True)
    if project is None:
        raise Unprocessable(
            f"There is no project {project_no}.",
            code="project_unknown",
            errors=[field_error("body.project_no", "unknown project", "project_unknown", project_no=project_no)],
        )
    return project


async def _open_stage(session: AsyncSession, project: Project, who: _Who, item: ItemVersion) -> ProjectStage:
    """The applicant's project stage the item is, free for a new application (its last failed)."""
    if project.owner_id_number != who.id_number:
        raise Forbidden("The project belongs to another applicant.")
    stages = await projects_repo.stages_of(session, project.id)
    stage = next((s for s in stages if s.item_code == item.code), None)
    if stage is None:
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
    if stage.application_id is not None:
        current = (await repository.get_by_ids(session, [stage.application_id])).get(stage.application_id)
        if current is not None and current.status not in ("not_accepted", "rejected"):
            raise Conflict(
                f"Stage {stage.stage} of project {project.project_no} already has application {current.application_no}."
            )
    return stage


async def _who_applies(
    session: AsyncSession, principal: Principal, data: ApplicationCreate, project: Project | None
) -> _Who:
    """The applicant: the caller online, the project's owner for its agency officer, or whom a clerk names."""
    fallback_phone = data.delivery.address.phone if data.delivery.address else None
    if principal.kind in ("person", "enterprise"):
        return _applying_online(principal, data, fallback_phone)
    if agency_officer_of(project, principal) and not principal.has_role("clerk"):
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
    return await _applying_at_window(session, principal, data, fallback_phone)


def _applying_online(principal: Principal, data: ApplicationCreate, fallback_phone: str | None) -> _Who:
    """An applicant applies for themselves."""
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


async def _applying_at_window(
    session: AsyncSession, principal: Principal, data: ApplicationCreate, fallback_phone: str | None
) -> _Who:
    """A clerk applies for the applicant they name (what was not typed again is taken from their last)."""
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


async def _hall_of(
    session: AsyncSession, *, principal: Principal, data: ApplicationCreate, channel: str, item: ItemVersion
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
                field_error(
                    "body.hall",
                    "the item is not offered at this hall",
                    "item_not_offered_at_hall",
                    item_code=item.code,
                    item_name=item.name,
                    hall=hall,
                    halls=list(item.halls),
                )
            ],
        )
    return hall


async def _item_at(session: AsyncSession, code: str, version: int | None) -> ItemVersion:
    """The item's current version: the service's copy when it holds that version, else its row read
    (422 unknown, 409 cancelled) and kept. ``version`` was read with the drafts' count: no read
    here when it is known already, and a version another replica made is read, not missed."""
    known = kernel_of(session).state.items
    item = known.get(code)
    if item is not None and item.version == version:
        return item
    row = await catalog.item_for_application(session, code=code)
    item = known[code] = ItemVersion(
        code=row.code,
        version=row.version,
        name=row.name,
        window=row.window,
        department=row.department,
        trips=row.trips,
        fee_fen=row.fee_fen,
        halls=tuple(row.halls or ()),
        snapshot=item_snapshot(row),
    )
    return item


async def _within_drafts_cap(
    session: AsyncSession, settings: IntakeSettings, id_number: str, *, item_code: str
) -> int | None:
    """409 when the applicant already keeps the most open drafts allowed; else the current version of
    the item applied for (None: no such item), read in the same statement."""
    await repository.lock_applicant(session, id_number)
    drafts, version = await repository.count_drafts_and_item_version(session, id_number, item_code)
    if drafts >= settings.max_open_drafts:
        raise Conflict(
            f"This applicant already has {drafts} open drafts, the most one applicant may keep. Submit one, "
            "or delete drafts no longer needed (DELETE /api/v1/applications/{no}), then start again.",
            title="Too many open drafts",
            code="open_drafts_limit",
            max_open_drafts=settings.max_open_drafts,
            open_drafts=drafts,
        )
    return version
