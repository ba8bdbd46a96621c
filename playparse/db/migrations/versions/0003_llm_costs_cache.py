"""LLM providers: tokens, cost and budget per job, the response cache, the provider breaker

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(
            sa.Column("input_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("output_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("cost_usd", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("chunks_cached", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("budget_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("budget_usd", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("reserved_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("reserved_usd", sa.Float(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("fresh", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("chunk_results") as batch_op:
        batch_op.add_column(sa.Column("cost_usd", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "llm_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("prompt_version", sa.String(length=32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "provider_health",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider"),
    )


def downgrade() -> None:
    op.drop_table("provider_health")
    op.drop_table("llm_cache")
    with op.batch_alter_table("chunk_results") as batch_op:
        batch_op.drop_column("cached")
        batch_op.drop_column("cost_usd")
    with op.batch_alter_table("jobs") as batch_op:
        for column in (
            "fresh",
            "reserved_usd",
            "reserved_tokens",
            "budget_usd",
            "budget_tokens",
            "chunks_cached",
            "cost_usd",
            "output_tokens",
            "input_tokens",
        ):
            batch_op.drop_column(column)
