"""Catalog tables: the current version of each item, every version ever, and item departments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from owkernel.tables import BigId
from services.intake.db import Base


class CatalogItem(Base):
    """A service item as it stands now (its latest version)."""

    __tablename__ = "catalog_items"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # licensing | public_service
    department: Mapped[str] = mapped_column(String(40), index=True)
    # Parallel items: every deciding department and the lead; [] and None otherwise.
    departments: Mapped[list[str]] = mapped_column(JSON)
    lead_department: Mapped[str | None] = mapped_column(String(40))
    window: Mapped[str] = mapped_column(String(20))
    legal_days: Mapped[int] = mapped_column(Integer)
    committed_days: Mapped[int] = mapped_column(Integer)
    trips: Mapped[int] = mapped_column(Integer)
    online: Mapped[bool] = mapped_column(Boolean)
    # A secret item (涉密) is never done online: the published online share leaves it out.
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    fee_fen: Mapped[int] = mapped_column(Integer)
    # The investment-project stage (1-4) this item is, if any.
    stage: Mapped[int | None] = mapped_column(Integer, index=True)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The halls that offer it (codes, sorted); None or empty: every hall.
    halls: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))


class CatalogItemDepartment(Base):
    """Every department concerned by an item (for the department filter of the list)."""

    __tablename__ = "catalog_item_departments"

    code: Mapped[str] = mapped_column(ForeignKey("catalog_items.code", ondelete="CASCADE"), primary_key=True)
    department: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index("ix_catalog_item_departments_department", "department", "code"),)


class CatalogItemVersion(Base):
    """One version of an item: who made it, when, what changed, and the whole item then."""

    __tablename__ = "catalog_item_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # created | adjusted | cancelled
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    item: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("code", "version", name="uq_catalog_item_versions_code_version"),)
