#!/usr/bin/env bash
# `npm run gateway`: runs a real OpenClaw gateway in the foreground on loopback, token auth,
# with all of its state under one folder (isolation env of docs/gateway-protocol.md §7).
#
#   SWITCHYARD_GATEWAY_DIR  state folder           (default .switchyard/gateway)
#   OPENCLAW_PORT           port                   (default 18789)
#   OPENCLAW_TOKEN          shared token           (default: generated once, kept in <dir>/token)
#
# The gateway's own file log goes to <dir>/openclaw.log (logging.file) instead of /tmp/openclaw.
# Stop with Ctrl-C. Delete the folder to start from scratch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/install-openclaw.sh" pinned >/dev/null

DIR="${SWITCHYARD_GATEWAY_DIR:-$ROOT/.switchyard/gateway}"
PORT="${OPENCLAW_PORT:-18789}"
mkdir -p "$DIR/.openclaw" "$DIR/tmp"
DIR="$(cd "$DIR" && pwd)"

export PATH="$ROOT/.tools/node24/node_modules/.bin:$ROOT/.tools/openclaw/node_modules/.bin:$PATH"

if [ -n "${OPENCLAW_TOKEN:-}" ]; then
  TOKEN="$OPENCLAW_TOKEN"
elif [ -s "$DIR/token" ]; then
  TOKEN="$(cat "$DIR/token")"
else
  TOKEN="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
  (umask 077 && printf '%s' "$TOKEN" > "$DIR/token")
fi

# Pre-set gateway.mode (a flags-only gateway that writes config omits it, docs/gateway-protocol.md §7) and
# logging.file; keep anything the gateway wrote since.
CONFIG="$DIR/.openclaw/openclaw.json"
node -e '
  const fs = require("node:fs"), [file, log] = process.argv.slice(1)
  let cfg = {}
  try { cfg = JSON.parse(fs.readFileSync(file, "utf8")) } catch (e) { if (e.code !== "ENOENT") { console.error(`gateway.sh: leaving ${file} as is: ${e.message}`); process.exit(0) } }
  cfg.gateway = { mode: "local", ...cfg.gateway }
  cfg.logging = { file: log, ...cfg.logging }
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + "\n")' "$CONFIG" "$DIR/openclaw.log"

# Drop the caller's OpenClaw settings so only the flags below and this folder count.
for var in $(compgen -e | grep '^OPENCLAW_' || true); do unset "$var"; done
export HOME="$DIR" OPENCLAW_HOME="$DIR" OPENCLAW_STATE_DIR="$DIR/.openclaw" OPENCLAW_CONFIG_PATH="$CONFIG" TMPDIR="$DIR/tmp"
export OPENCLAW_NO_AUTO_UPDATE=1 OPENCLAW_DISABLE_BONJOUR=1 OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_NO_RESPAWN=1 DO_NOT_TRACK=1

cat <<EOF
OpenClaw gateway (state: $DIR)
  url:   ws://127.0.0.1:$PORT
  token: $TOKEN
  log:   $DIR/openclaw.log
Connect as client gateway-client/backend, protocol 4, auth.token, no Origin header.
Ready when connect returns hello-ok (first start ~10 s; UNAVAILABLE/1013 before that).

EOF

exec openclaw gateway run --allow-unconfigured --bind loopback --auth token --token "$TOKEN" --port "$PORT"
