"""job_events.origin: the workflow run and activity that recorded an event

Temporal runs activities at least once: a state record whose transaction committed but whose
completion never reached the server runs again. The origin (run id and activity id) is unique
per job, so the second attempt finds its event and records nothing twice.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_events") as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(80), nullable=True))
        batch_op.create_unique_constraint("uq_job_events_origin", ["job_id", "origin"])


def downgrade() -> None:
    with op.batch_alter_table("job_events") as batch_op:
        batch_op.drop_constraint("uq_job_events_origin", type_="unique")
        batch_op.drop_column("origin")
