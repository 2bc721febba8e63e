#!/usr/bin/env bash
# Installs Node 24 (>= 24.16) from the npm registry into .tools/node24 (git-ignored) unless it
# is already there; machines here ship an end-of-life Node 20 (docs/operations.md §1.2). Idempotent.
# Source it to get .tools/node24 first on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/.tools/node24"
NODE_BIN="$NODE_DIR/node_modules/.bin/node"

node_ok() {
  [ -x "$NODE_BIN" ] && "$NODE_BIN" -e '
    const [maj, min] = process.versions.node.split(".").map(Number)
    process.exit(maj === 24 && min >= 16 ? 0 : 1)' 2>/dev/null
}

if node_ok; then
  echo "install-node: node $("$NODE_BIN" --version) already in .tools/node24"
else
  command -v npm >/dev/null || { echo "install-node: npm not found on PATH" >&2; exit 1; }
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || echo '{ "name": "switchyard-tools-node24", "private": true }' > "$NODE_DIR/package.json"
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --save-exact "node@24")
  node_ok || { echo "install-node: $NODE_BIN is not Node >= 24.16 after install" >&2; exit 1; }
  echo "install-node: installed node $("$NODE_BIN" --version) into .tools/node24"
fi

export PATH="$NODE_DIR/node_modules/.bin:$PATH"
