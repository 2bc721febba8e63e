#!/usr/bin/env bash
# Installs the two OpenClaw releases the tests run against and the Node 24 they need into
# .tools/ (git-ignored), from the npm registry only. Idempotent: each step is skipped when
# already at the right version.
#
#   .tools/node24         node@24 (>= 24.16; openclaw refuses older)
#   .tools/openclaw       openclaw@$OPENCLAW_VERSION, the pinned release
#   .tools/openclaw-prev  openclaw@$OPENCLAW_PREV_VERSION, the last release of the previous
#                         minor line that speaks protocol 4 (docs/gateway-protocol.md §11)
#
# `install-openclaw.sh pinned` or `install-openclaw.sh prev` installs only that one.
#
# Two separate installs, Node first: openclaw's preinstall must run under Node 24, so the
# second install runs with .tools/node24 first on PATH (docs/gateway-protocol.md §8).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPENCLAW_VERSION="2026.9.6"
OPENCLAW_PREV_VERSION="2026.8.2"
WHICH="${1:-all}"
case "$WHICH" in all | pinned | prev) ;; *) echo "install-openclaw: unknown release '$WHICH' (all, pinned or prev)" >&2; exit 2 ;; esac

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
  local pkg="$1/node_modules/openclaw/package.json"
  [ -f "$pkg" ] && node -p 'require(process.argv[1]).version' "$pkg" 2>/dev/null || true
}

# install_openclaw <version> <dir>
install_openclaw() {
  local version="$1" dir="$2"
  if [ "$(installed_openclaw "$dir")" = "$version" ] && [ -x "$dir/node_modules/.bin/openclaw" ]; then
    log "openclaw $version already in ${dir#"$ROOT"/}"
  else
    npm_install "$dir" "openclaw@$version"
    [ "$(installed_openclaw "$dir")" = "$version" ] || { echo "install-openclaw: openclaw $version missing after install" >&2; exit 1; }
  fi
  log "ready: node $(node --version), openclaw $(installed_openclaw "$dir") at ${dir#"$ROOT"/}/node_modules/.bin/openclaw"
}

[ "$WHICH" = prev ] || install_openclaw "$OPENCLAW_VERSION" "$ROOT/.tools/openclaw"
[ "$WHICH" = pinned ] || install_openclaw "$OPENCLAW_PREV_VERSION" "$ROOT/.tools/openclaw-prev"
