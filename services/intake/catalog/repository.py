"""Every catalog query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.catalog.models import CatalogItem, CatalogItemDepartment, CatalogItemVersion


async def get_item(session: AsyncSession, code: str, *, for_update: bool = False) -> CatalogItem | None:
    """The current version of an item."""
    stmt = _ITEM_FOR_UPDATE if for_update else _ITEM
    return (await session.execute(stmt, {"code_": code})).scalar_one_or_none()


# Built once: every application reads its item (building the statement cost as much CPU as running it).
_ITEM = select(CatalogItem).where(CatalogItem.code == bindparam("code_"))
_ITEM_FOR_UPDATE = _ITEM.with_for_update()


async def get_items(session: AsyncSession, codes: Sequence[str]) -> dict[str, CatalogItem]:
    """Current versions of several items, by code."""
    if not codes:
        return {}
    rows = (await session.execute(select(CatalogItem).where(CatalogItem.code.in_(codes)))).scalars()
    return {row.code: row for row in rows}


async def list_items(
    session: AsyncSession,
    *,
    department: str | None,
    kind: str | None,
    window: str | None,
    q: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> list[CatalogItem]:
    """A page of items ordered by code, after the cursor's code."""
    stmt: Select[CatalogItem] = select(CatalogItem).order_by(CatalogItem.code).limit(limit)
    if department:
        stmt = stmt.where(
            or_(
                CatalogItem.department == department,
                CatalogItem.code.in_(
                    select(CatalogItemDepartment.code).where(CatalogItemDepartment.department == department)
                ),
            )
        )
    if kind:
        stmt = stmt.where(CatalogItem.kind == kind)
    if window:
        stmt = stmt.where(CatalogItem.window == window)
    if status:
        stmt = stmt.where(CatalogItem.status == status)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        stmt = stmt.where(or_(CatalogItem.name.like(like, escape="\\"), CatalogItem.code.like(like, escape="\\")))
    if after is not None:
        stmt = stmt.where(CatalogItem.code > after)
    return list((await session.execute(stmt)).scalars())


async def active_items(session: AsyncSession) -> list[CatalogItem]:
    """Every item that takes applications."""
    return list((await session.execute(select(CatalogItem).where(CatalogItem.status == "active"))).scalars())


async def count_cancelled(session: AsyncSession) -> int:
    """How many items are cancelled."""
    return int(
        (
            await session.execute(
                select(func.count()).select_from(CatalogItem).where(CatalogItem.status == "cancelled")
            )
        ).scalar_one()
    )


async def stage_items(session: AsyncSession) -> dict[int, CatalogItem]:
    """The active item of each investment-project stage (the first by code when several)."""
    rows = (
        await session.execute(
            select(CatalogItem)
            .where(CatalogItem.stage.is_not(None), CatalogItem.status == "active")
            .order_by(CatalogItem.stage, CatalogItem.code)
        )
    ).scalars()
    out: dict[int, CatalogItem] = {}
    for row in rows:
        assert row.stage is not None
        out.setdefault(row.stage, row)
    return out


async def set_departments(session: AsyncSession, code: str, departments: Sequence[str]) -> None:
    """Replace the department rows of an item."""
    await session.execute(delete(CatalogItemDepartment).where(CatalogItemDepartment.code == code))
    if departments:
        await session.execute(
            insert(CatalogItemDepartment), [{"code": code, "department": d} for d in sorted(set(departments))]
        )


async def history(session: AsyncSession, code: str, *, after: int | None, limit: int) -> list[CatalogItemVersion]:
    """A page of an item's versions, oldest first."""
    stmt = (
        select(CatalogItemVersion)
        .where(CatalogItemVersion.code == code)
        .order_by(CatalogItemVersion.version)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(CatalogItemVersion.version > after)
    return list((await session.execute(stmt)).scalars())


async def department_count(session: AsyncSession) -> int:
    """How many departments own or decide active items."""
    owners = select(CatalogItem.department.label("d")).where(CatalogItem.status == "active")
    deciders = (
        select(CatalogItemDepartment.department.label("d"))
        .join(CatalogItem, CatalogItem.code == CatalogItemDepartment.code)
        .where(CatalogItem.status == "active")
    )
    union = owners.union(deciders).subquery()
    return int((await session.execute(select(func.count()).select_from(union))).scalar_one())
