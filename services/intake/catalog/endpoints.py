"""Catalog routes (docs/api.md "Catalog"); reading is open to anyone, changing is for admins."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile

from owkernel.app import SessionDep
from owkernel.errors import NotFound, PayloadTooLarge, Unprocessable
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor, decode_text_cursor, page_of
from owkernel.roles import Admin
from services.intake.catalog import repository, service
from services.intake.catalog.importer import parse_catalog_file
from services.intake.catalog.schemas import ImportResult, ItemCreate, ItemOut, ItemUpdate, StatsOut, VersionOut
from services.intake.db import tables
from services.intake.deps import SettingsDep

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
idempotency = Idempotency(tables)


@router.get("/items")
async def list_items(
    session: SessionDep,
    department: str | None = None,
    kind: Literal["licensing", "public_service"] | None = None,
    window: Literal["investment", "commercial", "general"] | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["active", "cancelled", "all"] = "active",
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ItemOut]:
    """Service items by code, filtered; cancelled ones with ``status=cancelled`` or ``all``."""
    rows = await repository.list_items(
        session,
        department=department,
        kind=kind,
        window=window,
        q=q,
        status=None if status == "all" else status,
        after=decode_text_cursor(cursor),
        limit=limit + 1,
    )
    return page_of(rows, limit, key=lambda r: [r.code], item=service.item_out)


@router.get("/items/{code}")
async def get_item(code: str, session: SessionDep) -> ItemOut:
    """One item, its current version."""
    item = await repository.get_item(session, code)
    if item is None:
        raise NotFound(f"No item {code}.")
    return service.item_out(item)


@router.post("/items", status_code=201, response_model=ItemOut)
async def create_item(
    body: ItemCreate, request: Request, session: SessionDep, admin: Admin, key: IdempotencyKey = None
) -> object:
    """Add an item (version 1)."""
    fingerprint = request_hash("POST /api/v1/catalog/items", body.model_dump_json())
    replay = await idempotency.replay(session, owner=admin.subject_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    item = service.item_out(await service.create_item(session, data=body, by=admin.display))
    await idempotency.remember(
        session, owner=admin.subject_id, key=key, fingerprint=fingerprint, status_code=201, body=item
    )
    return item


@router.put("/items/{code}")
async def update_item(code: str, body: ItemUpdate, session: SessionDep, admin: Admin) -> ItemOut:
    """Adjust an item: a new version (applications keep the version they were made under)."""
    if body.code is not None and body.code != code:
        raise Unprocessable("The code in the body differs from the one in the path.")
    item, _ = await service.update_item(session, code=code, data=body, by=admin.display)
    return service.item_out(item)


@router.delete("/items/{code}")
async def cancel_item(code: str, session: SessionDep, admin: Admin) -> ItemOut:
    """Cancel an item: no new applications, history kept."""
    return service.item_out(await service.cancel_item(session, code=code, by=admin.display))


@router.get("/items/{code}/history")
async def item_history(
    code: str, session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[VersionOut]:
    """Every version of an item, oldest first: who changed what, and when."""
    if await repository.get_item(session, code) is None:
        raise NotFound(f"No item {code}.")
    after = decode_id_cursor(cursor)
    rows = await repository.history(session, code, after=after, limit=limit + 1)
    return page_of(rows, limit, key=lambda r: [r.version], item=service.version_out)


@router.get("/stats")
async def catalog_stats(session: SessionDep) -> StatsOut:
    """Share of 0-or-1-trip items, share fully online, and the trips applicants really made."""
    return await service.stats(session)


@router.post("/import")
async def import_catalog(
    session: SessionDep, admin: Admin, settings: SettingsDep, file: Annotated[UploadFile, File()]
) -> ImportResult:
    """Bulk import from YAML or CSV: validated as a whole, new items created, changed ones adjusted."""
    data = await file.read(settings.import_max_bytes + 1)
    if len(data) > settings.import_max_bytes:
        raise PayloadTooLarge(f"A catalog file may be at most {settings.import_max_bytes} bytes.")
    items = parse_catalog_file(data, filename=file.filename, content_type=file.content_type)
    return await service.import_items(session, items=items, by=admin.display)
