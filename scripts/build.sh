#!/usr/bin/env bash
# Configures and builds Proton Beam. Usage: scripts/build.sh [--sanitize] [--release]
#   default:     build/       RelWithDebInfo
#   --sanitize:  build-asan/  Debug with AddressSanitizer + UndefinedBehaviorSanitizer, no benchmarks
#   --release:   build-release/ Release (for benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
case "${1:-}" in
  --sanitize) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DPB_SANITIZE=ON -DPB_BUILD_BENCH=OFF) ;;
  --release) dir=build-release; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  "") ;;
  *) echo "usage: $0 [--sanitize|--release]" >&2; exit 2 ;;
esac
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
[ -f "$dir/CMakeCache.txt" ] && gen=()
cmake -S . -B "$dir" "${gen[@]}" "${args[@]}" > /dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
