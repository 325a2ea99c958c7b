# Shared helpers for the integration tests: each test_*.sh sources this, runs the real binaries in a
# temp dir and fails (exit 1) on the first broken assertion, saying which.
set -euo pipefail
: "${PB_BIN:?PB_BIN must point at the bin directory of a build}"
: "${PB_SOURCE_DIR:?PB_SOURCE_DIR must point at the source tree}"
PB="$PB_BIN/proton-beam"
DATA="$PB_SOURCE_DIR/tests/data"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pb-it.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }
# json_get FILE KEY[.SUB]: a number from a summary JSON file.
json_get() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }
# Rows in the archive's index.
index_count() { sqlite3 "$1/index.db" 'SELECT count(*) FROM events'; }
# Every event of an archive as sorted JSONL (for order-independent comparisons).
dump_sorted() { "$PB_BIN/pb-dump-archive" "$1" | sort; }
# sha256 of every day file, in name order: equal iff the archives' day files are byte-identical.
day_files_digest() { (cd "$1" && ls *.pb.gz 2>/dev/null | sort | xargs -r sha256sum); }
# Generates a signed corpus: gen N SEED [more pb-gen-corpus options...]
gen() { local n=$1 seed=$2; shift 2; "$PB_BIN/pb-gen-corpus" --events "$n" --seed "$seed" "$@"; }
pass() { echo "PASS: $(basename "$0")"; }
