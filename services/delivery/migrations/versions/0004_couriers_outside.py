"""couriers are an outside party: drop sim_courier_jobs

The simulated couriers left delivery's process for their own (simulators/couriers), with their
own book of parcels; the work queue they kept here is gone with them. Parcels still queued at the
upgrade are not carried over: in the local run their shipments stay where they were (a clerk can
re-ship them), and no deployment outside dev ever ran the simulator.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:50:08.817956
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sim_courier_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_sim_courier_jobs_due")
    op.drop_table("sim_courier_jobs")


def downgrade() -> None:
    # The table as revision 0002 made it (empty: the queued reports lived in the simulator).
    op.create_table(
        "sim_courier_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("tracking_no", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.String(length=200), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_courier_jobs")),
        sa.UniqueConstraint("carrier", "tracking_no", name=op.f("uq_sim_courier_jobs_carrier")),
    )
    with op.batch_alter_table("sim_courier_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_sim_courier_jobs_due", ["done", "due_at"], unique=False)
