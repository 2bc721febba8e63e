#!/usr/bin/env bash
# Installs the pinned OpenClaw gateway and the Node 24 it needs into .tools/ (git-ignored),
# from the npm registry only. Idempotent: each step is skipped when already at the right version.
#
#   .tools/node24    node@24 (>= 24.16; openclaw refuses older)
#   .tools/openclaw  openclaw@$OPENCLAW_VERSION
#
# Two separate installs, Node first: openclaw's preinstall must run under Node 24, so the
# second install runs with .tools/node24 first on PATH (docs/gateway-protocol.md §8).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPENCLAW_VERSION="2026.9.6"
NODE_DIR="$ROOT/.tools/node24"
OPENCLAW_DIR="$ROOT/.tools/openclaw"
OPENCLAW_PKG="$OPENCLAW_DIR/node_modules/openclaw/package.json"

command -v npm >/dev/null || { echo "install-openclaw: npm not found on PATH" >&2; exit 1; }

log() { echo "install-openclaw: $*"; }

# npm_install <dir> <spec>: installs into its own tool folder with a private package.json
# (a folder-derived name such as "openclaw" would make npm refuse to install "openclaw").
npm_install() {
  local dir="$1" spec="$2" start=$SECONDS
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo "{ \"name\": \"switchyard-tools-$(basename "$dir")\", \"private\": true }" > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --save-exact "$spec")
  log "installed $spec into ${dir#"$ROOT"/} in $((SECONDS - start)) s"
}

# Node 24 first: openclaw's preinstall must run under it.
source "$ROOT/scripts/install-node.sh"

installed_openclaw() {
  [ -f "$OPENCLAW_PKG" ] && node -p 'require(process.argv[1]).version' "$OPENCLAW_PKG" 2>/dev/null || true
}

if [ "$(installed_openclaw)" = "$OPENCLAW_VERSION" ] && [ -x "$OPENCLAW_DIR/node_modules/.bin/openclaw" ]; then
  log "openclaw $OPENCLAW_VERSION already in .tools/openclaw"
else
  npm_install "$OPENCLAW_DIR" "openclaw@$OPENCLAW_VERSION"
  [ "$(installed_openclaw)" = "$OPENCLAW_VERSION" ] || { echo "install-openclaw: openclaw $OPENCLAW_VERSION missing after install" >&2; exit 1; }
fi

log "ready: node $(node --version), openclaw $(installed_openclaw) at ${OPENCLAW_DIR#"$ROOT"/}/node_modules/.bin/openclaw"
