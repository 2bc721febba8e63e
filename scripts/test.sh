#!/usr/bin/env bash
# Runs the whole test suite from nothing: Node 24, the dependencies, the pinned OpenClaw gateway
# (real-gateway suite included, never skipped), Chromium, the machine's Postgres, then `npm test`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install-openclaw.sh
# Debian Chromium for the visualiser's browser test (apt; skipped when /usr/bin/chromium exists).
bash scripts/install-chromium.sh
source scripts/install-node.sh
# The machine's Postgres (127.0.0.1:5432); the newest cluster, as test/support/globalSetup.ts picks.
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q && [ -d /etc/postgresql ]; then
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  echo "test: starting the machine's Postgres $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || echo "test: could not start Postgres $version; the tests will say more"
fi
# `npm install`, not `npm ci`: npm here leaves other platforms' optional packages out of the lock,
# which `npm ci` then refuses; `npm install` still installs the locked versions.
npm install --no-audit --no-fund
npm run check
npm test
