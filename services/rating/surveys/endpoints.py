"""Survey imports (admin, multipart CSV)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from owkernel import (
    CursorParam,
    IdempotencyKey,
    LimitParam,
    NotFound,
    Page,
    PayloadTooLarge,
    SessionDep,
)
from owkernel.pagination import decode_time_cursor, page_of, time_key
from owkernel.roles import Admin
from services.rating.common import idempotent_create
from services.rating.deps import SettingsDep
from services.rating.surveys import repository, service
from services.rating.surveys.models import SurveyImport
from services.rating.surveys.schemas import SurveyImportOut

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])
Institution = Annotated[str, Form(min_length=1, max_length=100)]


def import_out(record: SurveyImport) -> dict[str, Any]:
    """An import's report for a response."""
    return SurveyImportOut(
        import_id=record.import_id,
        institution=record.institution,
        filename=record.filename,
        file_sha256=record.file_sha256,
        imported_at=record.imported_at,
        rows=record.rows_total,
        added=record.rows_added,
        duplicates=record.rows_duplicate,
        rejected=record.rows_rejected,
        errors=record.errors,
    ).model_dump(mode="json")


@router.post("/imports", status_code=201, response_model=SurveyImportOut)
@router.post("", status_code=201, response_model=SurveyImportOut, include_in_schema=False)
async def import_survey(
    request: Request,
    session: SessionDep,
    principal: Admin,
    settings: SettingsDep,
    institution: Institution,
    file: Annotated[UploadFile, File(description="CSV with a header row")],
    key: IdempotencyKey = None,
) -> Any:
    """Import a survey institution's results: bad rows are listed by line, good rows kept, repeats skipped."""
    content = await file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file is larger than {settings.max_upload_bytes} bytes.")
    name = institution.strip()

    async def create() -> dict[str, Any]:
        record = await service.import_file(
            session, settings=settings, principal=principal, institution=name, filename=file.filename, content=content
        )
        return import_out(record)

    fingerprint = name + ":" + hashlib.sha256(content).hexdigest()
    return await idempotent_create(
        session, request=request, owner=principal.subject_id, key=key, body=fingerprint, create=create
    )


@router.get("/imports", response_model=Page[SurveyImportOut])
async def list_imports(session: SessionDep, _: Admin, limit: LimitParam = 50, cursor: CursorParam = None) -> Any:
    """Every import, newest first."""
    rows = await repository.page(session, limit=limit + 1, after=decode_time_cursor(cursor))
    return page_of(rows, limit, key=lambda r: time_key(r.imported_at, r.import_id), item=import_out)


@router.get("/imports/{import_id}", response_model=SurveyImportOut)
async def get_import(import_id: str, session: SessionDep, _: Admin) -> Any:
    """One import's report."""
    record = await repository.get(session, import_id)
    if record is None:
        raise NotFound(f"No survey import {import_id}.")
    return import_out(record)
