#!/usr/bin/env bash
# A newcomer's first command: installs Node 24 and the dependencies into this checkout, then
# starts Switchyard (`npm start`) on the embedded Postgres, or on DATABASE_URL when set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install-node.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund
exec npm start
