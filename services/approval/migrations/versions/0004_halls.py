"""halls: applications, clocks and cards belong to the hall that accepted the application

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 11:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Everything before halls existed happened at the city's hall.
    for table in ("approval_applications", "supervision_clocks", "supervision_cards"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.create_index("ix_supervision_cards_hall_raised", ["hall", "raised_at", "card_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_supervision_cards_hall_raised")
    for table in ("supervision_cards", "supervision_clocks", "approval_applications"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("hall")
