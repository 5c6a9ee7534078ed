#!/usr/bin/env bash
# report-screenshot.sh [OUT.png]: run the bundled example playbook
# (examples/report: five hosts on this machine, one failing, one
# unreachable), write its run report and take a picture of it with headless
# Chromium. It makes docs/report.png, the picture in the README. Needs Go,
# ansible-core and chromium (make deps-test installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
out=${1:-docs/report.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go run ./examples/report -o "$tmp/run.html"
# Chromium as root needs --no-sandbox; the rest keeps it off the network,
# and HOME and XDG_* keep its profile, caches and crash handler's database
# in $tmp. --screenshot takes the window, so its height is the picture's.
HOME="$tmp" TMPDIR="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$tmp/profile" --hide-scrollbars --force-device-scale-factor=1 \
	--window-size=1280,1180 --screenshot="$(realpath -m "$out")" "file://$tmp/run.html" 2>"$tmp/chromium.log" ||
	{ cat "$tmp/chromium.log" >&2; exit 1; }
echo "wrote $out"
