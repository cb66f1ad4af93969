"""staff halls: a staff account belongs to a hall (intake keeps the hall registry)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 11:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hall", sa.String(length=20), nullable=True))
    # Staff made before halls existed work at the city's hall; persons and enterprises have none.
    op.execute("UPDATE accounts SET hall = 'CITY' WHERE kind = 'staff'")


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("hall")
