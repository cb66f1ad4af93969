"""The read side of an application: everything its view shows, what its item asks for, its files.

These functions return domain data (models and dataclasses); ``presenter`` turns them into the
API's shapes. The rules of what a material's state is on a given day live here, so the view and
any other reader agree on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import NotFound
from services.intake.applications import repository
from services.intake.applications.access import ensure_can_read, load
from services.intake.applications.models import ApplicationFacts, MaterialFacts, TimelineFacts
from services.intake.storage import FileStorage

MaterialStatus = Literal["missing", "uploaded", "deferred", "supplied", "overdue"]


@dataclass(frozen=True)
class Step:
    """An application a step just changed, and what of it the step read, for ``view`` to reuse.

    ``materials`` is every material row in id order, ``timeline`` every entry in timeline order;
    None where the step did not read them all.
    """

    app: ApplicationFacts
    materials: list[MaterialFacts] | None = None
    timeline: list[TimelineFacts] | None = None


@dataclass(frozen=True)
class Dossier:
    """An application with everything its view shows: material rows (id order), timeline (in
    order) and the departments it is routed to (name order)."""

    app: ApplicationFacts
    materials: Sequence[MaterialFacts]
    timeline: Sequence[TimelineFacts]
    departments: list[str]


async def view(
    session: AsyncSession, *, principal: Principal, no: str | None = None, step: Step | None = None
) -> Dossier:
    """The whole application, as its applicant or permitted staff see it.

    By number, or after a ``step`` taken on it in this transaction: the application is not read
    again, nor the materials or timeline the step holds in full.
    """
    if step is not None:
        app, materials, timeline = step.app, step.materials, step.timeline
    elif no is not None:
        app, materials, timeline = await load(session, no), None, None
    else:
        raise TypeError("view() needs the application's number or the step just taken on it")
    await ensure_can_read(session, principal, app)
    if materials is None:
        materials = await repository.materials_of(session, app.id)
    if timeline is None:
        timeline = await repository.timeline_of(session, app.id)
    departments = await repository.departments_of(session, app.id, routed=app.item.get("departments"))
    return Dossier(app=app, materials=materials, timeline=timeline, departments=departments)


def material_status(row: MaterialFacts | None, today: date) -> MaterialStatus:
    """A material's state on ``today``: deferred ones are supplied, overdue or still deferred."""
    if row is None:
        return "missing"
    if row.is_deferred:
        if row.supplied_at is not None:
            return "supplied"
        if row.overdue_at is not None or (row.due_date is not None and today > row.due_date):
            return "overdue"
        return "deferred"
    return "uploaded" if row.sha256 else "missing"


def deferred_overdue(row: MaterialFacts, today: date) -> bool:
    """Whether a deferred material was reported overdue, or is still missing past its due date."""
    return row.overdue_at is not None or (row.supplied_at is None and row.due_date is not None and today > row.due_date)


def certificate_waits_for(app: ApplicationFacts, deferred: Sequence[MaterialFacts]) -> list[str]:
    """容缺: the deferred materials an accepted application's certificate waits for."""
    if app.certificate or app.status not in ("accepted", "approved"):
        return []
    return [m.code for m in deferred if m.supplied_at is None]


def material_spec(app: ApplicationFacts, code: str) -> dict[str, Any]:
    """What the application's item snapshot says of material ``code``, or 404."""
    spec = next((m for m in app.item.get("materials", []) if m.get("code") == code), None)
    if spec is None:
        raise NotFound(
            f"Item {app.item_code} v{app.item_version} has no material {code}.",
            code="material_unknown",
            material_code=code,
        )
    return dict(spec)


def material_name(app: ApplicationFacts, code: str) -> str:
    """The name the item snapshot gives material ``code`` (the code itself when it has none)."""
    spec = next((m for m in app.item.get("materials", []) if m.get("code") == code), None)
    return str(spec.get("name") or code) if spec else code


async def material_file(
    session: AsyncSession, *, storage: FileStorage, principal: Principal, no: str, code: str
) -> tuple[bytes, str]:
    """The stored file of a material and its type."""
    app = await load(session, no)
    await ensure_can_read(session, principal, app)
    material_spec(app, code)
    row = await repository.get_material(session, app.id, code)
    if row is None or row.sha256 is None:
        raise NotFound(
            f"Material {code} of application {no} has no file.",
            code="material_has_no_file",
            material_code=code,
            material_name=material_name(app, code),
        )
    return await storage.get(row.sha256), row.content_type or "application/octet-stream"
