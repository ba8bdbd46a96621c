"""job control: retry attempts, characters found, parsing pace

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(
            sa.Column("characters_found", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pace_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("pace_chunks", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("chunk_results") as batch_op:
        batch_op.add_column(sa.Column("speakers", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("chunk_results") as batch_op:
        batch_op.drop_column("speakers")
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("pace_chunks")
        batch_op.drop_column("pace_since")
        batch_op.drop_column("attempt")
        batch_op.drop_column("characters_found")
