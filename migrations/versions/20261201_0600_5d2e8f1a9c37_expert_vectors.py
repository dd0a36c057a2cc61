"""expert vectors: the meaning of each expert's public words, for matching across languages

One row per expert, kept by the indexer as profiles change: a multilingual sentence embedding of the
profile's public words, the profile's `updated_at` and the model it was made of, the digest of the
words, and their language. Existing profiles get theirs from the indexer, a few at a time.

Revision ID: 5d2e8f1a9c37
Revises: 8c1d4e7a2b90
Create Date: 2026-12-01 06:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8f1a9c37"
down_revision: str | None = "8c1d4e7a2b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expert_vector",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("expert_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["expert.id"], name=op.f("fk_expert_vector_expert_id_expert"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("expert_id", name=op.f("pk_expert_vector")),
    )


def downgrade() -> None:
    op.drop_table("expert_vector")
