#!/usr/bin/env bash
# One command to run troupe on a fresh Debian 12 machine: installs the
# packages, builds, and starts `troupe serve` on the embedded store.
# Extra arguments go to `troupe serve` (e.g. --port 9090 --data-dir /var/lib/troupe).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh -DTROUPE_BUILD_TESTS=OFF
exec "${TROUPE_BUILD_DIR:-build}/app/troupe" serve "$@"
