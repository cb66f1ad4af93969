"""departments: the registry that names the department codes items and tasks carry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:50:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The demo catalog's departments (demo/catalog.yaml's header), which the console named by a map of its own.
DEPARTMENTS = (
    ("DRC", "发展和改革局", "Development and Reform"),
    ("PLAN", "规划局", "Planning"),
    ("LAND", "国土资源局", "Land Resources"),
    ("HOUSING", "住房和城乡建设局", "Housing and Construction"),
    ("MARKET", "市场监督管理局", "Market Supervision"),
    ("PUBSEC", "公安局", "Public Security"),
    ("CIVIL", "民政局", "Civil Affairs"),
    ("HEALTH", "卫生和计划生育委员会", "Health and Family Planning"),
)


def upgrade() -> None:
    departments = op.create_table(
        "departments",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        departments,
        [
            {"code": code, "name_zh": zh, "name_en": en, "created_by": "migration", "created_at": now}
            for code, zh, en in DEPARTMENTS
        ],
    )


def downgrade() -> None:
    op.drop_table("departments")
