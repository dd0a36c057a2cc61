"""deal confirmation

A deal counts in the statistics only once both parties (or a moderator) have
confirmed it. Deals recorded before this revision were accepted under the old
rules and stay counted: they are marked confirmed, without per-side timestamps
(the audit log keeps who recorded them); a later change of their terms asks for
confirmation again like any other.

Revision ID: 5d2e8c7b41a0
Revises: aabff1ee9660
Create Date: 2026-11-30 12:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8c7b41a0"
down_revision: str | None = "aabff1ee9660"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmation", sa.String(length=24), nullable=False, server_default="confirmed")
        )
        batch_op.add_column(sa.Column("supplier_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("buyer_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("moderator_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    # The server default only fills the existing rows; new deals get theirs from the application.
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column("confirmation", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_column("moderator_confirmed_at")
        batch_op.drop_column("buyer_confirmed_at")
        batch_op.drop_column("supplier_confirmed_at")
        batch_op.drop_column("confirmation")
