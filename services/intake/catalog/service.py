"""Catalog rules: every change is a new version; a cancelled item takes no new applications."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.common import ItemSnapshot
from owkernel.contracts.intake import CatalogItemChanged
from owkernel.errors import Conflict, NotFound, Unprocessable, field_error
from owkernel.kernel import clock_of
from services.intake.applications import repository as applications_repo
from services.intake.catalog import repository
from services.intake.catalog.models import CatalogItem, CatalogItemVersion
from services.intake.catalog.schemas import (
    CONTENT_FIELDS,
    ImportProblem,
    ImportResult,
    ItemCreate,
    ItemFields,
    ItemOut,
    ItemTrips,
    Material,
    ShareFigures,
    StatsOut,
    TripsMade,
    VersionOut,
)
from services.intake.db import outbox
from services.intake.halls import repository as halls_repo


def item_content(item: CatalogItem) -> dict[str, Any]:
    """The stored item in the canonical form of ``ItemFields.content``."""
    content = {name: getattr(item, name) for name in CONTENT_FIELDS}
    # Items made before halls have None: offered everywhere, as an empty list says.
    content["halls"] = list(item.halls or [])
    return content


def item_out(item: CatalogItem) -> ItemOut:
    """The API shape of an item."""
    return ItemOut(
        code=item.code,
        name=item.name,
        kind=item.kind,
        department=item.department,
        window=item.window,
        legal_days=item.legal_days,
        committed_days=item.committed_days,
        trips=item.trips,
        online=item.online,
        fee_fen=item.fee_fen,
        materials=[Material.model_validate(m) for m in item.materials],
        departments=list(item.departments),
        lead_department=item.lead_department,
        stage=item.stage,
        secret=bool(item.secret),
        halls=list(item.halls or []),
        version=item.version,
        status="cancelled" if item.status == "cancelled" else "active",
        updated_at=item.updated_at,
    )


def version_out(row: CatalogItemVersion) -> VersionOut:
    """The API shape of one version."""
    return VersionOut.model_validate(row, from_attributes=True)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {k: {"from": old.get(k), "to": new.get(k)} for k in CONTENT_FIELDS if old.get(k) != new.get(k)}


async def _record(
    session: AsyncSession, item: CatalogItem, *, change: str, changes: dict[str, Any], by: str
) -> CatalogItemVersion:
    # Every version is published too: the figures compute the four stages' promise from it.
    await outbox.add(
        session,
        CatalogItemChanged(
            item=ItemSnapshot.model_validate(
                {
                    **item_content(item),
                    "code": item.code,
                    "version": item.version,
                    "departments": list(item.departments) or [item.department],
                    "lead_department": item.lead_department or item.department,
                    "secret": bool(item.secret),
                }
            ),
            status="cancelled" if item.status == "cancelled" else "active",
            stage=item.stage,
            changed_at=item.updated_at,
        ),
    )
    row = CatalogItemVersion(
        code=item.code,
        version=item.version,
        change=change,
        changes=changes,
        item={**item_content(item), "code": item.code, "status": item.status},
        changed_by=by,
        changed_at=item.updated_at,
    )
    session.add(row)
    return row


async def _known_halls(session: AsyncSession, codes: list[str]) -> None:
    unknown = sorted(set(codes) - await halls_repo.known(session, codes))
    if unknown:
        raise Unprocessable(
            f"There is no hall {', '.join(unknown)}.",
            errors=[field_error("body.halls", f"{c}: unknown hall", "value_error", hall=c) for c in unknown],
        )


async def create_item(session: AsyncSession, *, data: ItemCreate, by: str) -> CatalogItem:
    """Add an item as version 1; 409 when the code exists (cancelled ones included)."""
    if await repository.get_item(session, data.code) is not None:
        raise Conflict(f"Item {data.code} already exists; adjust it with PUT.", code="item_exists")
    await _known_halls(session, data.halls)
    content = data.content()
    item = CatalogItem(
        code=data.code, version=1, status="active", updated_at=clock_of(session).now(), updated_by=by, **content
    )
    session.add(item)
    await session.flush()
    await repository.set_departments(session, item.code, [item.department, *item.departments])
    await _record(session, item, change="created", changes=_diff({}, content), by=by)
    return item


async def update_item(session: AsyncSession, *, code: str, data: ItemFields, by: str) -> tuple[CatalogItem, bool]:
    """Adjust an item: a new version when anything changed (nothing otherwise)."""
    item = await repository.get_item(session, code, for_update=True)
    if item is None:
        raise NotFound(f"No item {code}.")
    if item.status == "cancelled":
        raise Conflict(f"Item {code} is cancelled; it cannot be adjusted.")
    old, new = item_content(item), data.content()
    changes = _diff(old, new)
    if "halls" in changes:
        await _known_halls(session, data.halls)
    if not changes:
        return item, False
    for name, value in new.items():
        setattr(item, name, value)
    item.version += 1
    item.updated_at = clock_of(session).now()
    item.updated_by = by
    await repository.set_departments(session, item.code, [item.department, *item.departments])
    await _record(session, item, change="adjusted", changes=changes, by=by)
    return item, True


async def cancel_item(session: AsyncSession, *, code: str, by: str) -> CatalogItem:
    """Cancel an item (a new version; its history and its applications stay)."""
    item = await repository.get_item(session, code, for_update=True)
    if item is None:
        raise NotFound(f"No item {code}.")
    if item.status == "cancelled":
        return item
    item.status = "cancelled"
    item.version += 1
    item.updated_at = clock_of(session).now()
    item.updated_by = by
    await _record(session, item, change="cancelled", changes={"status": {"from": "active", "to": "cancelled"}}, by=by)
    return item


async def import_items(session: AsyncSession, *, items: list[ItemCreate], by: str) -> ImportResult:
    """Create new items and adjust changed ones; the same file twice changes nothing."""
    existing = await repository.get_items(session, [i.code for i in items])
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    skipped: list[ImportProblem] = []
    departments: set[str] = set()
    for data in items:
        current = existing.get(data.code)
        if current is None:
            await create_item(session, data=data, by=by)
            created.append(data.code)
        elif current.status == "cancelled":
            skipped.append(ImportProblem(code=data.code, reason="the item is cancelled; it takes no new versions"))
            continue
        else:
            _, changed = await update_item(session, code=data.code, data=data, by=by)
            (updated if changed else unchanged).append(data.code)
        assert data.department is not None
        departments.update([data.department, *data.departments])
    return ImportResult(
        items=len(items),
        created=created,
        updated=updated,
        unchanged=unchanged,
        skipped=skipped,
        departments=sorted(departments),
    )


async def item_for_application(session: AsyncSession, *, code: str) -> CatalogItem:
    """The item an application is made under: 422 when unknown, 409 when cancelled."""
    item = await repository.get_item(session, code)
    if item is None:
        raise Unprocessable(
            f"There is no service item {code}.",
            errors=[field_error("body.item_code", "unknown item", "item_unknown", item_code=code)],
        )
    if item.status != "active":
        raise Conflict(f"Item {code} is cancelled and takes no new applications.")
    return item


def _shares(items: list[CatalogItem]) -> ShareFigures:
    n = len(items)
    few = sum(1 for i in items if i.trips <= 1)
    online = sum(1 for i in items if i.online)
    return ShareFigures(
        items=n,
        zero_or_one_trip_share=round(few / n, 4) if n else 0.0,
        online_share=round(online / n, 4) if n else 0.0,
    )


async def stats(session: AsyncSession) -> StatsOut:
    """The published figures, computed from the catalog, and the trips actually made."""
    items = await repository.active_items(session)
    overall = _shares(items)
    by_kind = {k: _shares([i for i in items if i.kind == k]) for k in ("licensing", "public_service")}
    by_window = {w: _shares([i for i in items if i.window == w]) for w in ("investment", "commercial", "general")}
    rows = await applications_repo.trips_by_item(session)
    per_item = [
        ItemTrips(
            item_code=r.item_code,
            name=r.item_name,
            declared_trips=r.declared,
            applications=r.applications,
            average_trips_made=round(r.total / r.applications, 2) if r.applications else 0.0,
            max_trips_made=r.most,
            over_declared=r.over,
        )
        for r in rows
    ]
    total = sum(r.applications for r in rows)
    within = total - sum(r.over for r in rows)
    return StatsOut(
        items=overall.items,
        zero_or_one_trip_share=overall.zero_or_one_trip_share,
        online_share=overall.online_share,
        cancelled_items=await repository.count_cancelled(session),
        departments=await repository.department_count(session),
        by_kind=by_kind,
        by_window=by_window,
        trips_made=TripsMade(
            applications=total,
            within_declared=within,
            within_declared_share=round(within / total, 4) if total else None,
            items=per_item,
        ),
    )
