"""halls: the city's hall and the counties' halls; applications, slots, bookings and items belong to halls

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 11:45:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    halls = op.create_table(
        "halls",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_halls")),
    )
    # Everything made before halls existed happened at the city's hall: it must exist from the start.
    op.bulk_insert(
        halls,
        [
            {
                "code": "CITY",
                "name": "市政务服务中心",
                "level": "city",
                "region_code": "370300000000",
                "created_by": "migration",
                "created_at": datetime.now(UTC),
            }
        ],
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))
        batch_op.add_column(sa.Column("accepted_hall", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_applications_hall_id", ["hall", "id"], unique=False)
    op.execute("UPDATE applications SET accepted_hall = 'CITY' WHERE accepted_at IS NOT NULL")
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("halls", sa.JSON(), nullable=True))
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))
    # A slot is a window's at one hall: the hall joins the key (windows are named alike in every hall).
    with op.batch_alter_table("appointment_slots", schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))
        batch_op.drop_constraint("pk_appointment_slots", type_="primary")
        batch_op.create_primary_key("pk_appointment_slots", ["hall", "window", "slot"])
        batch_op.drop_index("ix_appointment_slots_window_day")
        batch_op.create_index("ix_appointment_slots_hall_window_day", ["hall", "window", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appointment_slots", schema=None, recreate="always") as batch_op:
        batch_op.drop_index("ix_appointment_slots_hall_window_day")
        batch_op.create_index("ix_appointment_slots_window_day", ["window", "day"], unique=False)
        batch_op.drop_constraint("pk_appointment_slots", type_="primary")
        batch_op.create_primary_key("pk_appointment_slots", ["window", "slot"])
        batch_op.drop_column("hall")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("hall")
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_column("halls")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_hall_id")
        batch_op.drop_column("accepted_hall")
        batch_op.drop_column("hall")
    op.drop_table("halls")
