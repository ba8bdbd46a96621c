"""jobs.speaker_keys: the distinct speakers found so far, kept as chunks are stored

Storing a chunk result adds its speakers to this set and counts `characters_found` from it,
instead of re-reading the speakers of every stored chunk of the job. NULL (every job before
this revision) means not collected yet: the next stored chunk collects it from all results.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("speaker_keys", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("speaker_keys")
