"""expiry warning: the validity a listing's owner was last warned about

Revision ID: 3f6a2c8e9d15
Revises: 7b3e9c1d2f40
Create Date: 2026-11-30 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6a2c8e9d15"
down_revision: str | None = "7b3e9c1d2f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("listing") as batch_op:
        batch_op.add_column(sa.Column("expiry_warned_for", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("listing") as batch_op:
        batch_op.drop_column("expiry_warned_for")
