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

# The browser tests (tests/browser) drive Debian's Chromium; Playwright's own browser download
# is never used. Install the package when it is missing and we may (root); if that fails the
# browser tests skip with the reason, or fail under CI=true.
if ! command -v chromium >/dev/null 2>&1 && [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -qq chromium >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; then
    echo "NOTICE: chromium could not be installed; the browser tests will be SKIPPED (failed under CI=true)."
  fi
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

exec .venv/bin/pytest "$@"
