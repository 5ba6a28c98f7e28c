#!/usr/bin/env bash
# Installs the Debian packages troupe needs to build, run, test and benchmark.
# Idempotent: when everything is present it returns in well under a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libcaf-dev libhiredis-dev nlohmann-json3-dev libcpp-httplib-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  redis-server redis-tools
  libjemalloc-dev zlib1g-dev
  curl wrk siege jq python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
