#!/usr/bin/env bash
# Runs the whole test suite from nothing: Node 24, the dependencies, the pinned OpenClaw gateway
# (real-gateway suite included, never skipped), the machine's Postgres, then `npm test`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install-openclaw.sh
source scripts/install-node.sh
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "test: starting the machine's Postgres"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
# `npm install`, not `npm ci`: npm here leaves other platforms' optional packages out of the lock,
# which `npm ci` then refuses; `npm install` still installs the locked versions.
npm install --no-audit --no-fund
npm run check
npm test
