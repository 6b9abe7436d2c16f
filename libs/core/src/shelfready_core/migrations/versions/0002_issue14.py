"""image set: the cut-out's box and confidence, and review flags

Revision ID: 0002_issue14
Revises: 0002_issue11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_issue14"
down_revision: str | None = "0002_issue11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("image_set", sa.Column("cutout_box", JSON_TYPE, nullable=True))
    op.add_column("image_set", sa.Column("cutout_confidence", sa.Float(), nullable=True))
    op.add_column(
        "image_set",
        sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("image_set", sa.Column("review_reasons", JSON_TYPE, nullable=True))


def downgrade() -> None:
    op.drop_column("image_set", "review_reasons")
    op.drop_column("image_set", "needs_review")
    op.drop_column("image_set", "cutout_confidence")
    op.drop_column("image_set", "cutout_box")
