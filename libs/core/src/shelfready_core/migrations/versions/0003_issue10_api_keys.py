"""API keys with owners: workflow.owner and the api_key table

Revision ID: 0003_issue10
Revises: 0002_issue8
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_issue10"
down_revision: str | None = "0002_issue8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workflow",
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.create_index(op.f("ix_workflow_owner"), "workflow", ["owner"], unique=False)
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_digest"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("api_key")
    op.drop_index(op.f("ix_workflow_owner"), table_name="workflow")
    op.drop_column("workflow", "owner")
