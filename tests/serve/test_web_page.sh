#!/usr/bin/env bash
# The web page of `proton-beam serve` in a real headless browser (Debian's chromium driven by
# playwright-core, both installed by scripts/setup.sh): overview numbers, chart, kinds table and form
# queries equal an independent computation over the generated events; hostile HTML in events and in the
# archive name stays inert text (tests/serve/web_page_check.mjs). PB_SCREENSHOT=/abs/path.png also saves a PNG.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

case "${PB_SCREENSHOT:-}" in '' | /*) ;; *) fail "PB_SCREENSHOT must be an absolute path" ;; esac
CHROMIUM=${PB_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "no $CHROMIUM (scripts/setup.sh installs Debian's chromium)"
[ -d "$PB_SOURCE_DIR/tests/node/node_modules/playwright-core" ] || fail "no playwright-core (run scripts/setup.sh)"

node "$NODE_SERVE/gen_events.mjs" --count 400 --seed web --out events.jsonl
node "$NODE_SERVE/gen_hostile_events.mjs" >>events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
assert_eq "$(index_count arch)" "$(wc -l <events.jsonl)" "events stored"

NAME='<img src=x onerror="window.__pwned=4">archive'
serve_start S arch --name "$NAME"
node "$NODE_SERVE/web_page_check.mjs" --port "$S_PORT" --events events.jsonl --name "$NAME" --chromium "$CHROMIUM" \
  ${PB_SCREENSHOT:+--screenshot "$PB_SCREENSHOT"} || fail "the web page check failed"
serve_stop S
pass
