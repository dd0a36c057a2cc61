"""taxonomy state: which taxonomy and tagger the stored inferred concepts come from

One row, written by the indexer once it has inferred every listing's and expert profile's concepts
with the current taxonomy and tagger. An empty table (every database before this revision) makes the
indexer infer them all again once: concepts stored by an older taxonomy are brought up to date.

Revision ID: b7e2c4a9d815
Revises: a4b7c9e1d203
Create Date: 2026-12-01 14:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2c4a9d815"
down_revision: str | None = "a4b7c9e1d203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxonomy_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("retagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_state")),
    )


def downgrade() -> None:
    op.drop_table("taxonomy_state")
