#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the visualiser's browser test
# (test/integration/inspect.browser.test.ts), unless it is already there. Idempotent.
# `npx playwright install` cannot download browsers on these machines; apt can. Needs root
# (or passwordless sudo); fails loudly otherwise, so CI never skips the browser test unnoticed.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi

command -v apt-get >/dev/null || { echo "install-chromium: $CHROMIUM is missing and there is no apt-get to install it with" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install-chromium: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# DejaVu gives the screenshots real glyphs; recommends (desktop portals etc.) are not needed headless.
install() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >>"$log" 2>&1
}
update() { "${as_root[@]}" apt-get update -q >>"$log" 2>&1; }

echo "install-chromium: installing Debian chromium with apt-get"
# A stale package index is the usual failure on a fresh machine: refresh once, then retry once more.
if ! install && ! { update && install; } && ! { sleep 5 && update && install; }; then
  tail -n 30 "$log" >&2
  echo "install-chromium: apt-get install chromium failed (log above)" >&2
  exit 1
fi
[ -x "$CHROMIUM" ] || { echo "install-chromium: apt-get succeeded but $CHROMIUM is missing" >&2; exit 1; }
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
