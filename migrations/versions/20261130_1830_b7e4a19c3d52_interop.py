"""interop: external keys, provenance, import jobs, harvest state

Imported and harvested listings and organisations carry an external key
(source, external_id) so that a re-upload or a repeated harvest updates the
record instead of duplicating it, and their origin URL. This exchange's own
records keep source NULL (several NULLs never collide in a unique key).
The change feed reads each record's latest outbox event: an index on
(index_name, record_id, id) serves it.

Revision ID: b7e4a19c3d52
Revises: 2d595e28db31
Create Date: 2026-11-30 18:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7e4a19c3d52"
down_revision: str | None = "2d595e28db31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    for table in ("listing", "organization"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
            batch_op.add_column(sa.Column("origin_url", sa.String(length=512), nullable=True))
            batch_op.create_unique_constraint(f"uq_{table}_source_external_id", ["source", "external_id"])
    op.create_index("ix_outbox_event_record", "outbox_event", ["index_name", "record_id", "id"], unique=False)
    op.create_table(
        "import_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=256), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("on_duplicate", sa.String(length=8), nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_account_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("mapping", JSON, nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("error_file", sa.LargeBinary(), nullable=True),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["account.id"],
            name=op.f("fk_import_job_created_by_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_import_job_organization_id_organization"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_table(
        "harvest_state",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("cursor", sa.String(length=256), nullable=True),
        sa.Column("harvested", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_harvest_state")),
    )


def downgrade() -> None:
    op.drop_table("harvest_state")
    op.drop_table("import_job")
    op.drop_index("ix_outbox_event_record", table_name="outbox_event")
    for table in ("organization", "listing"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_source_external_id", type_="unique")
            batch_op.drop_column("origin_url")
            batch_op.drop_column("external_id")
            batch_op.drop_column("source")
