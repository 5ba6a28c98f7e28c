#!/usr/bin/env bash
# One command to run the whole test suite on a fresh Debian 12 machine:
# installs the packages, builds everything, runs unit, actor and integration
# tests (the integration tests start the real troupe binary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh -DTROUPE_BUILD_TESTS=ON
cd "${TROUPE_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j2 "$@"
