"""figures: the published figures' read model (applications, projects, stage uses, stage items) and imported history

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "figure_applications",
        sa.Column("application_no", sa.String(length=40), nullable=False),
        sa.Column("hall", sa.String(length=20), nullable=False),
        sa.Column("accepted_month", sa.String(length=7), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("deferred", sa.Boolean(), nullable=False),
        sa.Column("decided_month", sa.String(length=7), nullable=True),
        sa.PrimaryKeyConstraint("application_no", name=op.f("pk_figure_applications")),
    )
    with op.batch_alter_table("figure_applications", schema=None) as batch_op:
        batch_op.create_index("ix_figure_applications_accepted_month", ["accepted_month", "hall"], unique=False)
        batch_op.create_index("ix_figure_applications_decided_month", ["decided_month", "hall"], unique=False)
    op.create_table(
        "figure_projects",
        sa.Column("project_no", sa.String(length=32), nullable=False),
        sa.Column("hall", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("investment_fen", sa.BigInteger(), nullable=False),
        sa.Column("key_project", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("project_no", name=op.f("pk_figure_projects")),
    )
    with op.batch_alter_table("figure_projects", schema=None) as batch_op:
        batch_op.create_index("ix_figure_projects_month", ["month", "hall"], unique=False)
    op.create_table(
        "figure_stage_uses",
        sa.Column("application_no", sa.String(length=40), nullable=False),
        sa.Column("project_no", sa.String(length=32), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("working_days_used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("application_no", name=op.f("pk_figure_stage_uses")),
    )
    op.create_table(
        "figure_stage_items",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("committed_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_figure_stage_items")),
    )
    op.create_table(
        "figure_history",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("hall", sa.String(length=20), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("online_share", sa.Float(), nullable=True),
        sa.Column("zero_trip_share", sa.Float(), nullable=True),
        sa.Column("one_trip_share", sa.Float(), nullable=True),
        sa.Column("deferred_share", sa.Float(), nullable=True),
        sa.Column("on_time_rate", sa.Float(), nullable=True),
        sa.Column("red_cards", sa.Integer(), nullable=False),
        sa.Column("consultations_on_time_rate", sa.Float(), nullable=True),
        sa.Column("satisfaction_rate", sa.Float(), nullable=True),
        sa.Column("projects_count", sa.Integer(), nullable=False),
        sa.Column("projects_key", sa.Integer(), nullable=False),
        sa.Column("projects_investment_fen", sa.BigInteger(), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("month", "hall", name=op.f("pk_figure_history")),
    )


def downgrade() -> None:
    op.drop_table("figure_history")
    op.drop_table("figure_stage_items")
    op.drop_table("figure_stage_uses")
    with op.batch_alter_table("figure_projects", schema=None) as batch_op:
        batch_op.drop_index("ix_figure_projects_month")
    op.drop_table("figure_projects")
    with op.batch_alter_table("figure_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_figure_applications_decided_month")
        batch_op.drop_index("ix_figure_applications_accepted_month")
    op.drop_table("figure_applications")
