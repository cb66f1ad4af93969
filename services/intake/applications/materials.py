"""The applicant's files: a draft's materials uploaded (or the draft deleted with them), and the
materials deferred at acceptance (容缺) supplied afterwards.

A file is stored under its content's address and checked by its content, not its name; what one
applicant can make us store is bounded by their quota.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.contracts.intake import MaterialSupplemented
from owkernel.errors import Conflict, PayloadTooLarge, Problem, Unprocessable, field_error
from owkernel.kernel import clock_of
from services.intake.applications import repository
from services.intake.applications.access import ensure_can_act, load, load_changing
from services.intake.applications.events import record_visit
from services.intake.applications.models import Application, ApplicationFacts, ApplicationMaterial, MaterialFacts
from services.intake.applications.reading import material_name, material_spec
from services.intake.common import local_today
from services.intake.db import outbox
from services.intake.halls import service as halls
from services.intake.projects import repository as projects_repo
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
) -> MaterialFacts:
    """Attach (or replace) a material while the application is a draft or back for correction."""
    now = clock_of(session).now()
    app = await load_changing(session, no, at=now)
    await ensure_can_act(session, principal, app)
    if app.status not in ("draft", "returned"):
        raise Conflict(
            f"Application {no} is {app.status}; materials are uploaded before submission.",
            code="application_not_editable",
            application_status=app.status,
        )
    spec = material_spec(app, code)
    content_type = check_upload(settings, data)
    material = await _within_quota(session, settings, app, code=code, size=len(data))
    stored = await _store(session, storage, data)
    attached = _attached(stored, content_type=content_type, filename=filename, by=principal.display, at=now)
    if material is None:
        # Written now by one statement from its values, not an object added to the session for its
        # unit of work at the commit (nor one made only to be read back: issue 22).
        new = {
            "application_id": app.id,
            "code": code,
            "name": spec.get("name", code),
            "critical": bool(spec.get("critical", True)),
            "is_deferred": False,
        }
        return await repository.insert_material(session, new | attached)
    if material.sha256 is not None and material.sha256 != stored.sha256:
        # The replaced file goes once this commits (unless another material uses it too).
        await repository.release_files(session, [material.sha256], at=now)
    for key, value in attached.items():
        setattr(material, key, value)
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
    await repository.release_files(
        session, sorted({m.sha256 for m in materials if m.sha256}), at=clock_of(session).now()
    )
    if app.project_no is not None:
        stage = await projects_repo.stage_of_application(session, app.id)
        if stage is not None:
            # The stage takes a new application again.
            stage.application_id = None
            await session.flush()
    await repository.delete_application(session, app.id)


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
    material = await _awaiting_supplement(session, app, code)
    content_type = check_upload(settings, data)
    stored = await _store(session, storage, data)
    now = clock_of(session).now()
    _attach(material, stored, content_type=content_type, filename=filename, by=principal.display, at=now)
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


async def _awaiting_supplement(session: AsyncSession, app: Application, code: str) -> ApplicationMaterial:
    """The row of material ``code`` when it was deferred at acceptance and is not supplied yet, else 409."""
    material_spec(app, code)
    if app.status not in ("accepted", "approved"):
        raise Conflict(
            f"Application {app.application_no} is {app.status}; it takes no supplements.",
            code="application_takes_no_supplements",
            application_status=app.status,
        )
    material = await repository.get_material(session, app.id, code)
    if material is None or not material.is_deferred:
        raise Conflict(
            f"Material {code} was not deferred at acceptance; nothing to supplement.",
            code="material_not_deferred",
            material_code=code,
            material_name=material_name(app, code),
        )
    if material.supplied_at is not None:
        raise Conflict(
            f"Material {code} was already supplied.",
            code="material_already_supplied",
            material_code=code,
            material_name=material.name,
        )
    return material


def _attached(stored: StoredFile, *, content_type: str, filename: str | None, by: str, at: datetime) -> dict[str, Any]:
    """What points a material at a stored file and notes who uploaded it when (its columns by name)."""
    return {
        "sha256": stored.sha256,
        "size": stored.size,
        "content_type": content_type,
        "filename": _safe_name(filename),
        "uploaded_at": at,
        "uploaded_by": by,
    }


def _attach(
    material: ApplicationMaterial, stored: StoredFile, *, content_type: str, filename: str | None, by: str, at: datetime
) -> None:
    """Point a material at a stored file and note who uploaded it when."""
    for key, value in _attached(stored, content_type=content_type, filename=filename, by=by, at=at).items():
        setattr(material, key, value)


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


async def _within_quota(
    session: AsyncSession, settings: IntakeSettings, app: ApplicationFacts, *, code: str, size: int
) -> ApplicationMaterial | None:
    """409 when a file of ``size`` bytes for material ``code`` (replacing its file, if any) would take
    the applicant past their storage quota; else the material's row (None: not uploaded yet).

    409 and not 413: the file itself is acceptable (413 says that one file is too big, and a
    smaller one would not help here); what stands in the way is what the applicant already
    keeps, and they resolve it by deleting drafts, as RFC 9110 describes 409.
    """
    await repository.lock_applicant(session, app.applicant_id_number)
    material, used = await repository.material_and_stored_bytes(
        session, app.id, code, id_number=app.applicant_id_number, statuses=UNDECIDED
    )
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
    return material


async def _store(session: AsyncSession, storage: FileStorage, data: bytes) -> StoredFile:
    """Write an upload under its file's lock, taken first: the release job cannot delete the file
    between the write and this transaction's commit (it checks for users under the same lock)."""
    # A big file is hashed off the event loop (a 10 MiB scan takes milliseconds); a small one is
    # not worth the thread hop.
    sha256 = content_address(data) if len(data) <= 64 * 1024 else await asyncio.to_thread(content_address, data)
    await repository.lock_file(session, sha256)
    return await storage.put(data, sha256=sha256)
