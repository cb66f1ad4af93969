"""容缺 no longer stops the clocks: the deferred materials' open waits end

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:10:00.000000

A data migration. Under the old rule each deferred material opened a wait (a suspension of the
clocks) that its supplement ended; now only a correction or the fee is a wait. An open wait for a
deferred material ends at its own start: a wait of no length, as if it had never been (approval
recounts its clocks the same way, see its revision 0005).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE suspensions SET ended_at = started_at WHERE reason = 'deferred_material' AND ended_at IS NULL")


def downgrade() -> None:
    # The waits that ended here cannot be told from the ones that ended at their start: nothing to undo.
    pass
