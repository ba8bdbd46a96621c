"""retention: a saved play outlives its job (plays.job_id no longer a foreign key)

Retention removes ended jobs; a play kept after its job is gone still names the job that
produced it, as jobs.play_id names the play: a plain reference, not a constraint.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the constraint unnamed; batch mode names it by this convention to drop it.
SQLITE_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_FK = "fk_plays_job_id_jobs"
# Tables whose rows cascade from plays, parents first.
PLAY_CHILDREN = ("characters", "acts", "scenes", "lines")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_plays_on_sqlite(
            lambda batch_op: batch_op.drop_constraint(SQLITE_FK, type_="foreignkey")
        )
        return
    for foreign_key in sa.inspect(bind).get_foreign_keys("plays"):
        if foreign_key["referred_table"] == "jobs" and foreign_key["name"]:
            op.drop_constraint(foreign_key["name"], "plays", type_="foreignkey")


def downgrade() -> None:
    orphans = op.get_bind().execute(
        sa.text("SELECT count(*) FROM plays WHERE job_id NOT IN (SELECT id FROM jobs)")
    )
    if orphans.scalar_one():
        raise RuntimeError(
            "plays kept after retention removed their jobs would break the restored foreign "
            "key; delete them (plays whose job_id names no job) before downgrading"
        )
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_plays_on_sqlite(
            lambda batch_op: batch_op.create_foreign_key(SQLITE_FK, "jobs", ["job_id"], ["id"])
        )
        return
    op.create_foreign_key("plays_job_id_fkey", "plays", "jobs", ["job_id"], ["id"])


def _rebuild_plays_on_sqlite(change: Callable[[BatchOperations], None]) -> None:
    """Change plays' constraints by rebuilding the table, keeping every row that hangs off it.

    Batch mode copies plays and drops the old table; with foreign keys enforced (playparse's
    engine turns them on, and the pragma cannot change inside a transaction) that drop
    cascades to every character, act, scene and line. They are set aside and put back.
    """
    bind = op.get_bind()
    enforced = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    if enforced:
        for table in PLAY_CHILDREN:
            bind.exec_driver_sql(f"CREATE TEMP TABLE _keep_{table} AS SELECT * FROM {table}")
    with op.batch_alter_table("plays", naming_convention=SQLITE_NAMING) as batch_op:
        change(batch_op)
    if enforced:
        for table in PLAY_CHILDREN:
            bind.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM _keep_{table}")
            bind.exec_driver_sql(f"DROP TABLE _keep_{table}")
