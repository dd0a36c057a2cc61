"""expert vectors: profiles typed in Vietnamese without marks are Vietnamese, not English

Their vectors were filed under English, so their likeness was standardised among the English profiles.
The vectors filed under English are removed; the indexer makes them again (a few at a time, matching
goes on meanwhile) with the language the profile is written in.

Revision ID: a4b7c9e1d203
Revises: 5d2e8f1a9c37
Create Date: 2026-12-01 11:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a4b7c9e1d203"
down_revision: str | None = "5d2e8f1a9c37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM expert_vector WHERE language = 'en'")


def downgrade() -> None:
    """Nothing to undo: the vectors made again are as valid under the earlier rule."""
