"""halls: kiosks, ratings, inspections and assessments belong to a hall; the roll-up counts per hall

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 11:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = "n, satisfied, bad, rectified, rectified_on_time, score_sum, s1, s2, s3, s4, s5"


def upgrade() -> None:
    # Everything before halls existed happened at the city's hall.
    for table in ("kiosks", "ratings", "inspections"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index("ix_ratings_hall_rated_at", ["hall", "rated_at"], unique=False)
    # An assessment is a hall's: the hall joins its key.
    with op.batch_alter_table("assessments", schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column("hall", sa.String(length=20), server_default="CITY", nullable=False))
        batch_op.drop_constraint("pk_assessments", type_="primary")
        batch_op.create_primary_key("pk_assessments", ["month", "hall", "scope", "key"])
    # The roll-up's new grouping: every rating so far is the city hall's, and the channel rows
    # count every rating once per day and channel.
    sums = ", ".join(f"SUM({c})" for c in COUNTERS.split(", "))
    op.execute(
        f"INSERT INTO rating_daily (dim, day, key, channel, {COUNTERS}) "
        f"SELECT 'hall', day, 'CITY', channel, {sums} FROM rating_daily WHERE dim = 'channel' GROUP BY day, channel"
    )


def downgrade() -> None:
    op.execute("DELETE FROM rating_daily WHERE dim = 'hall'")
    with op.batch_alter_table("assessments", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_assessments", type_="primary")
        batch_op.create_primary_key("pk_assessments", ["month", "scope", "key"])
        batch_op.drop_column("hall")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_ratings_hall_rated_at")
    for table in ("inspections", "ratings", "kiosks"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("hall")
