#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs the system packages the tests use when
# they are missing (as root; otherwise prints the exact command), then typechecks, lints and runs
# vitest against real PostgreSQL 15 + pgaudit clusters that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -f /usr/lib/postgresql/15/lib/pgaudit.so ] || need+=(postgresql-15-pgaudit)
command -v pgbadger >/dev/null 2>&1 || need+=(pgbadger)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "jaga tests: installing ${need[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
  else
    echo "jaga tests need Debian packages: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
[ -d node_modules ] || npm ci

npm run build
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx vitest run "$@"
