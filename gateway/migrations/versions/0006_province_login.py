"""province logins under way (state, nonce, PKCE verifier, return_to) and one-time login codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 11:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "province_logins",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("return_to", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_province_logins")),
    )
    with op.batch_alter_table("province_logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_province_logins_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "province_login_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_province_login_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_province_login_codes")),
    )
    with op.batch_alter_table("province_login_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_province_login_codes_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_province_login_codes_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("province_login_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_province_login_codes_expires_at"))
        batch_op.drop_index(batch_op.f("ix_province_login_codes_account_id"))
    op.drop_table("province_login_codes")

    with op.batch_alter_table("province_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_province_logins_expires_at"))
    op.drop_table("province_logins")
