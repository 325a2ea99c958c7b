#!/usr/bin/env bash
# Installs everything Proton Beam needs to build and test on Debian 12: Debian packages via apt-get and
# the npm test peers into tests/node/node_modules. Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libsimdjson-dev libsecp256k1-dev libssl-dev libprotobuf-dev protobuf-compiler
  libdeflate-dev zlib1g-dev libzstd-dev libsqlite3-dev sqlite3
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libboost-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gzip zstd python3 time curl openssl
  python3-botocore clickhouse-server clickhouse-client
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: the machine image may carry a nodejs build that bundles npm (and conflicts with Debian's npm);
# install Debian's only when no node/npm is present at all.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# nostr-tools is the independent NIP-01 oracle used by the cross-implementation tests;
# s3rver is the S3 server the object-storage tests run against; @nostr-relay/* and ws are the relays
# (real, hostile, replay) the daemon's and the server's tests run against (tests/relay/); playwright-core
# drives Debian's chromium for the web page test (it never downloads a browser of its own).
if [ ! -d tests/node/node_modules/nostr-tools ] || [ ! -d tests/node/node_modules/s3rver ] ||
   [ ! -d tests/node/node_modules/@nostr-relay/core ] || [ ! -d tests/node/node_modules/ws ] ||
   [ ! -d tests/node/node_modules/playwright-core ]; then
  echo "setup: installing npm test peers into tests/node" >&2
  (cd tests/node && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "setup: ok" >&2
