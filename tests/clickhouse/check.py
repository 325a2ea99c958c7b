#!/usr/bin/env python3
"""Independent checks of what ClickHouse holds against the archives' events (JSONL from pb-dump-archive
or make_edge_archive.py). Each subcommand exits 1 with the first differences.

  check.py events EXPECTED.jsonl... -- ROWS.jsonl   rows of SELECT id,pubkey,created_at,kind,tags,content,sig
  check.py tags   EXPECTED.jsonl... -- ROWS.jsonl   rows of SELECT event_id,tag_index,tag_name,tag_value,tag_rest
  check.py views  EXPECTED.jsonl... -- PER_DAY_KIND.jsonl TOP_AUTHORS.jsonl DAILY_ACTIVE.jsonl
"""
import collections, datetime, json, sys

def load(paths):
    out = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            out += [json.loads(l) for l in f if l.strip()]
    return out

def die(msg, diffs=()):
    print("check.py: " + msg, file=sys.stderr)
    for d in list(diffs)[:5]:
        print("  " + repr(d)[:400], file=sys.stderr)
    sys.exit(1)

def norm_event(e):
    return (e["id"], e["pubkey"], int(e["created_at"]), int(e["kind"]), json.dumps(e["tags"]), e["content"], e["sig"])

def day_of(created_at):
    # the schema's day: created_at clamped into [0, 4102444800] (1970-01-01 .. 2100-01-01)
    c = min(max(int(created_at), 0), 4102444800)
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=c // 86400)).isoformat()

def ch_day(s):
    return "1970-01-01" if s == "0000-00-00" else s  # 18.16 prints day 0 as 0000-00-00

def compare(name, expected, actual):
    exp, act = collections.Counter(expected), collections.Counter(actual)
    if exp != act:
        die(f"{name}: {sum((exp - act).values())} expected rows missing, {sum((act - exp).values())} unexpected rows",
            list((exp - act).elements())[:3] + list((act - exp).elements())[:3])
    print(f"check.py {name}: {len(expected)} rows match")

def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    sep = args.index("--")
    events = load(args[:sep])
    rows = args[sep + 1:]
    ids = [e["id"] for e in events]
    if len(ids) != len(set(ids)):
        die("expected events hold duplicate ids")
    if cmd == "events":
        compare("events", [norm_event(e) for e in events], [norm_event(r) for r in load(rows)])
    elif cmd == "tags":
        exp = [(e["id"], i + 1, t[0] if t else "", t[1] if len(t) > 1 else "", json.dumps(t[2:]))
               for e in events for i, t in enumerate(e["tags"])]
        act = [(r["event_id"], int(r["tag_index"]), r["tag_name"], r["tag_value"], json.dumps(r["tag_rest"]))
               for r in load(rows)]
        compare("tags", exp, act)
    elif cmd == "views":
        per_day_kind = collections.Counter((day_of(e["created_at"]), int(e["kind"])) for e in events)
        compare("events_per_day_kind", [(d, k, n) for (d, k), n in per_day_kind.items()],
                [(ch_day(r["day"]), int(r["kind"]), int(r["events"])) for r in load(rows[:1])])
        by_author = collections.defaultdict(list)
        for e in events:
            by_author[e["pubkey"]].append(int(e["created_at"]))
        top = load(rows[1:2])
        compare("top_authors", [(p, len(c), min(c), max(c)) for p, c in by_author.items()],
                [(r["pubkey"], int(r["events"]), int(r["first_created_at"]), int(r["last_created_at"])) for r in top])
        counts = [int(r["events"]) for r in top]
        if counts != sorted(counts, reverse=True):
            die("top_authors is not ordered by events, descending")
        daily = collections.defaultdict(set)
        daily_n = collections.Counter()
        for e in events:
            daily[day_of(e["created_at"])].add(e["pubkey"])
            daily_n[day_of(e["created_at"])] += 1
        compare("daily_active_authors", [(d, len(a), daily_n[d]) for d, a in daily.items()],
                [(ch_day(r["day"]), int(r["authors"]), int(r["events"])) for r in load(rows[2:3])])
    else:
        die("unknown subcommand " + cmd)

main()
