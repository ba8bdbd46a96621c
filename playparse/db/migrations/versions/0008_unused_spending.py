"""jobs.unused_*: tokens and cost paid for answers the job did not keep

A provider call is paid for even when its answer is not kept: a refusal, an answer still
invalid after its repair, the first half of a split whose second half failed. These are
counted here, apart from the stored results, so recounting the results at a run's start keeps
them, and a job's tokens, cost and budget include them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(
            sa.Column("unused_input_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("unused_output_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("unused_cost_usd", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("unused_cost_usd")
        batch_op.drop_column("unused_output_tokens")
        batch_op.drop_column("unused_input_tokens")
