"""Application routes (docs/api.md "Applications"): the route owns the transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from owkernel.app import SessionDep
from owkernel.auth import Principal, VerifiedPrincipal
from owkernel.errors import PayloadTooLarge, Unprocessable, field_error
from owkernel.halls import HALL_CODE_PATTERN
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.kernel import clock_of, get_kernel
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor
from owkernel.roles import Clerk
from services.intake.applications import access, creation, listing_repository, materials, presenter, reading, review
from services.intake.applications.reading import Step
from services.intake.applications.schemas import (
    AcceptanceIn,
    ApplicationCreate,
    ApplicationSummary,
    ApplicationView,
    MaterialOut,
    Status,
)
from services.intake.common import Window, local_today
from services.intake.db import tables
from services.intake.deps import IntakeKernel, SettingsDep, StorageDep
from services.intake.settings import IntakeSettings

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
idempotency = Idempotency(tables)
# Multipart overhead allowed beyond the file itself before the body is refused unread.
MULTIPART_SLACK = 64 * 1024
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def read_upload(request: Request, settings: IntakeSettings) -> tuple[bytes, str | None]:
    """The ``file`` part of a multipart body, refused early when the body is declared too big."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.max_upload_bytes + MULTIPART_SLACK:
        raise PayloadTooLarge(f"A material may be at most {settings.max_upload_bytes} bytes.")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Unprocessable(
            "Send the material as multipart/form-data with a `file` part.",
            errors=[field_error("file", "required", "missing")],
        )
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Unprocessable("The `file` part is missing.", errors=[field_error("file", "required", "missing")])
        data = await upload.read(settings.max_upload_bytes + 1)
        return data, upload.filename


@router.post(
    "",
    status_code=201,
    response_model=ApplicationView,
    responses={
        409: {
            "description": "the applicant keeps the most open drafts allowed (submit or delete one), the item "
            "is cancelled, or the project's stage has an application already"
        }
    },
)
async def create_application(
    body: ApplicationCreate, request: Request, principal: VerifiedPrincipal, key: IdempotencyKey = None
) -> object:
    """A draft with its application number: online for oneself, or by a clerk at the window."""
    fingerprint = request_hash("POST /api/v1/applications", body.model_dump_json())
    kernel: IntakeKernel = get_kernel(request)
    settings = kernel.settings
    # The four steps every application takes (create, upload, submit, accept) hold their unit of
    # work themselves, as SessionDep does (committed before the answer is sent, rolled back on an
    # exception), and find the kernel on the request: FastAPI's generator and chained dependencies
    # (SessionDep, SettingsDep, StorageDep) cost more than the block (issue 22).
    async with kernel.db.transaction() as session:
        replay = await idempotency.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
        if replay is not None:
            return replay
        step = await creation.create_application(session, settings=settings, principal=principal, data=body)
        result = await _view(session, settings, principal, step=step)
        await idempotency.remember(
            session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=201, body=result
        )
    return result


@router.get("")
async def list_applications(
    session: SessionDep,
    principal: VerifiedPrincipal,
    status: Status | None = None,
    item_code: str | None = None,
    window: Window | None = None,
    department: str | None = None,
    project_no: str | None = None,
    applicant_id_number: str | None = None,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="application no., applicant's ID number or part of the name"),
    ] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ApplicationSummary]:
    """Newest first: an applicant's own; a clerk's or supervisor's all; an approver's department's."""
    applicant, department = access.list_scope(principal, applicant=applicant_id_number, department=department)
    rows = await listing_repository.list_applications(
        session,
        applicant=applicant,
        department=department,
        status=status,
        item_code=item_code,
        window=window,
        project_no=project_no,
        hall=hall,
        search=q.strip() if q else None,
        before_id=decode_id_cursor(cursor),
        limit=limit + 1,
    )
    return presenter.summary_page(rows, limit)


@router.get("/{no}")
async def get_application(
    no: str, session: SessionDep, principal: VerifiedPrincipal, settings: SettingsDep
) -> ApplicationView:
    """The whole application with its timeline, whichever service made each step."""
    return await _view(session, settings, principal, no=no)


async def _view(
    session: AsyncSession,
    settings: IntakeSettings,
    principal: Principal,
    *,
    no: str | None = None,
    step: Step | None = None,
) -> ApplicationView:
    """The view of an application by number, or after a step just taken on it (not read again)."""
    dossier = await reading.view(session, principal=principal, no=no, step=step)
    return presenter.application_view(dossier, local_today(settings, clock_of(session).now()))


@router.put(
    "/{no}/materials/{material_code}",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={
        409: {
            "description": "the application is past its draft, or the file would take the applicant past their "
            "storage quota (delete drafts no longer needed)"
        },
        413: {"description": "the file is bigger than a material may be"},
        415: {"description": "not a PDF, JPEG or PNG by its content"},
    },
)
async def upload_material(no: str, material_code: str, request: Request, principal: VerifiedPrincipal) -> MaterialOut:
    """Upload a material (PDF, JPEG or PNG by content; size limited); replaces an earlier upload."""
    kernel: IntakeKernel = get_kernel(request)
    settings = kernel.settings
    data, filename = await read_upload(request, settings)
    # Its own unit of work, as create_application says why.
    async with kernel.db.transaction() as session:
        row = await materials.upload_material(
            session,
            settings=settings,
            storage=kernel.state.storage,
            principal=principal,
            no=no,
            code=material_code,
            data=data,
            filename=filename,
        )
        return presenter.material_row_out(row, local_today(settings, clock_of(session).now()))


@router.delete(
    "/{no}",
    status_code=204,
    responses={409: {"description": "only a draft is deleted"}},
)
async def delete_draft(no: str, session: SessionDep, principal: VerifiedPrincipal) -> Response:
    """Delete a draft (its applicant, a window clerk): its files go, and it no longer counts as open."""
    await materials.delete_draft(session, principal=principal, no=no)
    return Response(status_code=204)


@router.get("/{no}/materials/{material_code}", response_class=Response)
async def download_material(
    no: str, material_code: str, session: SessionDep, principal: VerifiedPrincipal, storage: StorageDep
) -> Response:
    """The stored file of a material (its applicant and permitted staff)."""
    data, content_type = await reading.material_file(
        session, storage=storage, principal=principal, no=no, code=material_code
    )
    return Response(content=data, media_type=content_type, headers={"X-Content-Type-Options": "nosniff"})


@router.post("/{no}/submit")
async def submit_application(no: str, request: Request, principal: VerifiedPrincipal) -> ApplicationView:
    """Submit for pre-review at the window."""
    kernel: IntakeKernel = get_kernel(request)
    # Its own unit of work, as create_application says why.
    async with kernel.db.transaction() as session:
        step = await review.submit(session, principal=principal, no=no)
        return await _view(session, kernel.settings, principal, step=step)


@router.post("/{no}/acceptance")
async def decide_acceptance(no: str, body: AcceptanceIn, request: Request, clerk: Clerk) -> ApplicationView:
    """The clerk accepts (missing non-critical materials deferred: 容缺), returns, or refuses."""
    kernel: IntakeKernel = get_kernel(request)
    settings = kernel.settings
    # Its own unit of work, as create_application says why.
    async with kernel.db.transaction() as session:
        step = await review.decide_acceptance(session, settings=settings, principal=clerk, no=no, data=body)
        return await _view(session, settings, clerk, step=step)


@router.put(
    "/{no}/supplements/{material_code}",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={
        409: {"description": "the material was not deferred, or is supplied already"},
        413: {"description": "the file is bigger than a material may be"},
        415: {"description": "not a PDF, JPEG or PNG by its content"},
    },
)
async def supplement_material(
    no: str,
    material_code: str,
    request: Request,
    session: SessionDep,
    principal: VerifiedPrincipal,
    settings: SettingsDep,
    storage: StorageDep,
) -> MaterialOut:
    """Supply a deferred material: recorded and published; its wait ends."""
    data, filename = await read_upload(request, settings)
    row = await materials.supplement(
        session,
        settings=settings,
        storage=storage,
        principal=principal,
        no=no,
        code=material_code,
        data=data,
        filename=filename,
    )
    return presenter.material_row_out(row, local_today(settings, clock_of(session).now()))
