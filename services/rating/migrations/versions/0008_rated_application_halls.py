"""rated application halls: the hall that accepted an application, so its ratings count there

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Applications accepted before halls existed were the city's hall's.
    with op.batch_alter_table("rated_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("rated_applications", schema=None) as batch_op:
        batch_op.drop_column("hall")
