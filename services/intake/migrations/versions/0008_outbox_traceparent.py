"""outbox: traceparent of the transaction that wrote each event

The kernel's outbox keeps the W3C traceparent of the writing transaction (owkernel.tracing), so
the relay's publish span is a child of the request or event that raised the event. Empty while
tracing is off, and for rows written before this revision (they are published as before, each
starting a trace of its own).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("traceparent")
