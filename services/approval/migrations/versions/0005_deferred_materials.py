"""容缺 no longer stops the clocks: deferred materials per application, one-time data fixes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:00:00.000000

The schema, and the record of each accepted application's deferred materials (from the
acceptance's snapshot; one whose wait already ended was supplied then). Ending the deferred
materials' suspensions of open clocks needs the working calendar and the card rule (the due
dates are recomputed as if the clocks had never stopped), which live in the service: the
start-up job ``clocks.deferred_fix.end_deferred_suspensions`` does it once, recorded in
approval_data_fixes.
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_data_fixes",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_approval_data_fixes")),
    )
    op.create_table(
        "approval_deferred_materials",
        sa.Column("application_no", sa.String(length=60), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("supplied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_no"],
            ["approval_applications.application_no"],
            name=op.f("fk_approval_deferred_materials_application_no_approval_applications"),
        ),
        sa.PrimaryKeyConstraint("application_no", "code", name=op.f("pk_approval_deferred_materials")),
    )
    applications = sa.table(
        "approval_applications", sa.column("application_no", sa.String()), sa.column("deferred_materials", sa.JSON())
    )
    materials = sa.table(
        "approval_deferred_materials",
        sa.column("application_no", sa.String()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("due_date", sa.Date()),
    )
    bind = op.get_bind()
    rows = []
    for application_no, deferred in bind.execute(
        sa.select(applications.c.application_no, applications.c.deferred_materials)
    ):
        for m in dict((m["code"], m) for m in deferred or []).values():
            rows.append(
                {
                    "application_no": application_no,
                    "code": m["code"],
                    "name": m.get("name") or m["code"],
                    "due_date": date.fromisoformat(m["due_date"]),
                }
            )
    if rows:
        op.bulk_insert(materials, rows)
    # A material whose wait ended was supplied then (the wait ended at the supplement).
    op.execute(
        "UPDATE approval_deferred_materials SET supplied_at = ("
        " SELECT max(w.ended_at) FROM applicant_waits w"
        " WHERE w.application_no = approval_deferred_materials.application_no"
        " AND w.key = 'material:' || approval_deferred_materials.code"
        " AND w.reason = 'deferred_material')"
    )


def downgrade() -> None:
    op.drop_table("approval_deferred_materials")
    op.drop_table("approval_data_fixes")
