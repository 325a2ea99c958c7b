#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer it may not depend on (README, "Layout").

Each folder under src/ is a layer (one CMake library); a layer may include its own headers and those of
the layers listed for it below, never one above it. A new folder must be added here, with its place.
"""
import pathlib
import re
import sys

# layer -> the layers it may include (its own is always allowed)
ALLOWED = {
    'base': set(),
    'nostr': set(),
    'net': set(),
    'archive': {'base', 'nostr'},
    'ingest': {'base', 'nostr', 'archive'},
    'query': {'base', 'nostr', 'archive'},
    'ops': {'base', 'nostr', 'archive'},
    's3': {'base', 'nostr', 'archive'},
    'clickhouse': {'base', 'nostr', 'archive'},
    'daemon': {'base', 'nostr', 'archive', 'ingest', 'net', 's3'},
    'serve': {'base', 'nostr', 'archive', 'query', 'ops', 'net'},
    'cli': {'base', 'nostr', 'archive', 'ingest', 'query', 'ops', 's3', 'serve', 'net'},
    'clickhouse_import': {'base', 'nostr', 'archive', 'clickhouse'},
    'daemon_main': {'base', 'nostr', 'archive', 'ingest', 'net', 's3', 'daemon'},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/[^"]+"', re.M)


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else 'src')
    problems = []
    for layer_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        layer = layer_dir.name
        if layer not in ALLOWED:
            problems.append(f'{layer_dir}: a folder of src/ that tests/layering/check_layers.py does not place')
            continue
        for f in sorted(layer_dir.rglob('*')):
            if f.suffix not in ('.cpp', '.hpp', '.h'):
                continue
            for m in INCLUDE.finditer(f.read_text(errors='replace')):
                dep = m.group(1)
                if dep != layer and dep not in ALLOWED[layer]:
                    line = f.read_text(errors='replace')[:m.start()].count('\n') + 1
                    problems.append(f'{f}:{line}: layer "{layer}" includes "{m.group(1)}/..." (allowed: '
                                    f'{", ".join(sorted(ALLOWED[layer])) or "nothing"})')
    for p in problems:
        print(p)
    files = sum(1 for _ in src.rglob('*.?pp'))
    print(f'layering: {files} files checked, {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
