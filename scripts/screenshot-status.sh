#!/usr/bin/env bash
# Takes a screenshot of the status page of a running Readside with headless Chromium (Debian: apt-get install
# chromium) and checks that the page rendered its sections.
# Usage: scripts/screenshot-status.sh [management-base-url] [png]
set -euo pipefail
url="${1:-http://localhost:9000}/status"   # the management interface
png="${2:-docs/status-page.png}"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile")
dom="$(chromium "${flags[@]}" --dump-dom "$url" 2>/dev/null)"
for section in "Health" "Consumer lag" "Records" "readside-consumer-lag"; do
  grep -q "$section" <<<"$dom" || { echo "status page lacks '$section'" >&2; exit 1; }
done
chromium "${flags[@]}" --window-size=1280,1100 --screenshot="$png" "$url" 2>/dev/null
echo "status page rendered; screenshot in $png"
