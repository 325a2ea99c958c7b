#!/usr/bin/env python3
"""Writes an archive folder whose one day file holds hand-encoded ProtoEvent records that convert would
never produce: created_at 0 and beyond 2^32, kind 65535, empty and one-element tags, repeated tags, NUL
and control bytes, plus records the importer must reject (kind 70000, kind -1, created_at -1, a record
that is not a valid ProtoEvent). Several gzip members. Prints the valid events as JSONL to EXPECTED.

Usage: make_edge_archive.py DIR EXPECTED_JSONL"""
import gzip, json, os, random, sys

def varint(v):
    if v < 0:
        v += 1 << 64  # int64/int32 negatives: ten-byte two's complement, as protobuf writes them
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)

def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data

def field_int(num, v):
    return varint(num << 3) + varint(v) if v != 0 else b""

def proto_event(e):
    out = field_bytes(1, e["id"].encode()) + field_bytes(2, e["pubkey"].encode())
    out += field_int(3, e["created_at"]) + field_int(4, e["kind"])
    for tag in e["tags"]:
        out += field_bytes(5, b"".join(field_bytes(1, v.encode()) for v in tag))
    if e["content"]:
        out += field_bytes(6, e["content"].encode())
    return out + field_bytes(7, e["sig"].encode())

rng = random.Random(7)
def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))

def event(created_at, kind, tags=(), content="x"):
    return {"id": hexs(64), "pubkey": hexs(64), "created_at": created_at, "kind": kind, "tags": [list(t) for t in tags],
            "content": content, "sig": hexs(128)}

valid = [
    event(0, 0, [[], ["t"], ["p", "a", "b", "c"], ["p", "a", "b", "c"]], "nul\x00 ctl\x01\x1f del\x7f \"q\" \\ / \u2028 é 🎉\n"),
    event(4294967296 + 5, 65535, [["e", "x"]]),
    event(1 << 40, 1, [["d", ""]]),
    event((1 << 62) + 3, 30023),
    event(1700000000, 1, [["t", "nostr"]] * 3, ""),
]
rejected = [event(1700000001, 70000), event(1700000002, -1), event(-1, 1)]
bad = event(1700000003, 1)
bad["id"] = bad["id"].upper()  # not lowercase hex: not a valid record

os.makedirs(sys.argv[1], exist_ok=True)
records = [proto_event(e) for e in valid[:2] + rejected[:1] + valid[2:4] + [bad] + rejected[1:] + valid[4:]]
with open(os.path.join(sys.argv[1], "1970_01_01.pb.gz"), "wb") as f:
    for i in range(0, len(records), 3):  # three records per gzip member
        f.write(gzip.compress(b"".join(varint(len(r)) + r for r in records[i:i + 3])))
with open(sys.argv[2], "w") as f:
    for e in valid:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
