#!/usr/bin/env bash
# Runs the whole suite. PostgreSQL tests run when PostgreSQL answers; otherwise they are skipped
# with a plain notice, except under CI=true, where a missing PostgreSQL fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url="${PLAYPARSE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if .venv/bin/python - "$pg_url" <<'PY'
import asyncio, sys
import asyncpg

async def main(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    await connection.close()

try:
    asyncio.run(main(sys.argv[1]))
except Exception as error:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {error}", file=sys.stderr)
    sys.exit(1)
PY
then
  echo "PostgreSQL reachable at $pg_url: the suite runs on SQLite and PostgreSQL."
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI=true and PostgreSQL is not reachable: failing." >&2
  exit 1
else
  echo "NOTICE: PostgreSQL is not reachable; the PostgreSQL tests will be SKIPPED (SQLite only)."
fi

exec .venv/bin/pytest "$@"
