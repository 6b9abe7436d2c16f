"""listing review: fixes, needs_review, review reasons, calls

Revision ID: 0002_issue8
Revises: 0002_issue14
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_issue8"
down_revision: str | None = "0002_issue14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("listing", sa.Column("fixes", _JSON, nullable=True))
    op.add_column(
        "listing",
        sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("listing", sa.Column("review_reasons", _JSON, nullable=True))
    op.add_column("listing", sa.Column("calls", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("listing", "calls")
    op.drop_column("listing", "review_reasons")
    op.drop_column("listing", "needs_review")
    op.drop_column("listing", "fixes")
