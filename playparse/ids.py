"""The shape of the ids the service hands out ("job_…", "play_…")."""

from __future__ import annotations

import re

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The largest value of a BIGINT column (event ids, token counts) in PostgreSQL and SQLite.
MAX_BIGINT = 2**63 - 1


def is_valid_id(value: str) -> bool:
    """Whether `value` could be an id at all; anything else cannot name a row."""
    return _ID.fullmatch(value) is not None


def is_job_id(value: str) -> bool:
    """Whether `value` has the shape of a job's id ("job_…")."""
    return value.startswith("job_") and is_valid_id(value)
