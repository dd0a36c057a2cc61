"""expert import: the external key of imported expert profiles

Profiles imported from an organisation's staff list carry an external key
(source, external_id), as imported listings and organisations do, so that
uploading the corrected file updates them instead of duplicating them.
Profiles created through the API keep source NULL.

Revision ID: 8c1d4e7a2b90
Revises: 3f6a2c8e9d15
Create Date: 2026-11-30 20:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c1d4e7a2b90"
down_revision: str | None = "3f6a2c8e9d15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("expert") as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.create_unique_constraint("uq_expert_source_external_id", ["source", "external_id"])


def downgrade() -> None:
    with op.batch_alter_table("expert") as batch_op:
        batch_op.drop_constraint("uq_expert_source_external_id", type_="unique")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")
