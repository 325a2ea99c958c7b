#!/usr/bin/env bash
# Quick start #1: install what is needed, build, and convert the bundled real sample into ./pb_data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh > /dev/null
rm -rf pb_data
build/bin/proton-beam convert examples/sample_events.jsonl -o pb_data --summary-json pb_data/summary.json
echo
echo "Archive written to ./pb_data:"
ls -l pb_data
echo "Try: sqlite3 pb_data/index.db 'SELECT kind, count(*) FROM events GROUP BY kind ORDER BY 2 DESC'"
