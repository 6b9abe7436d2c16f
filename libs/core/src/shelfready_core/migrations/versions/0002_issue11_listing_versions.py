"""listing versions and the seller's approval

Revision ID: 0002_issue11
Revises: 0001
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_issue11"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("listing", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("listing", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "listing_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("fields", JSON, nullable=True),
        sa.Column("quality_score", sa.Integer(), nullable=False),
        sa.Column("quality_reasons", JSON, nullable=True),
        sa.Column("findings", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflow.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id", "version", name="uq_listing_version_number"),
    )
    op.create_index(
        op.f("ix_listing_version_workflow_id"), "listing_version", ["workflow_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_listing_version_workflow_id"), table_name="listing_version")
    op.drop_table("listing_version")
    op.drop_column("listing", "approved_at")
    op.drop_column("listing", "version")
