"""chunks.cache_key: the response-cache key of an LLM job's chunk, set when it is planned

The chunk activity reads its chunk and any cached answer for it in one statement by joining
llm_cache on this key. NULL (chunks planned before this revision, and heuristic jobs) makes the
activity look the answer up on its own, as before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.add_column(sa.Column("cache_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.drop_column("cache_key")
