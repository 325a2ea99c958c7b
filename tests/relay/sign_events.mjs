#!/usr/bin/env node
// Writes N deterministic signed events as JSONL (no relay needed). Same seed and options, same bytes
// (keys come from the seed, signatures use zero BIP-340 aux randomness, created_at = base-time + i).
// (tests/node/gen_events.mjs is a different thing: the tricky-encoding corpus of the nostr-tools crosscheck.)
//
// Usage: node sign_events.mjs --count N [--seed S] [--base-time 1700000000] [--authors 5]
//                             [--relay-list URL,URL...] [--per-second K] [--out FILE]   (default: stdout)
//   --per-second K   K events share each created_at (base-time + floor(i / K)); default 1
//   Kind 1 notes with t/e/p/subject tags (e and p carry the --relay-list URLs as relay hints), preceded by
//   one kind-10002 relay list per author when --relay-list is given. The public keys: key i of seed S is
//   printed by `node sign_events.mjs --pubkeys --seed S --authors K`.

import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateEvents, keyFor, pubkeyOf } from './lib.mjs'

const { values: o } = parseArgs({
  options: {
    count: { type: 'string', default: '10' },
    seed: { type: 'string', default: 'seed' },
    'base-time': { type: 'string', default: '1700000000' },
    authors: { type: 'string', default: '5' },
    'relay-list': { type: 'string', default: '' },
    'per-second': { type: 'string', default: '1' },
    out: { type: 'string' },
    pubkeys: { type: 'boolean', default: false },
  },
})
let text
if (o.pubkeys) {
  text = Array.from({ length: Number(o.authors) }, (_, i) => pubkeyOf(keyFor(o.seed, i)) + '\n').join('')
} else {
  const events = generateEvents({
    count: Number(o.count),
    seed: o.seed,
    baseTime: Number(o['base-time']),
    authors: Number(o.authors),
    relayList: o['relay-list'] ? o['relay-list'].split(',') : [],
    perSecond: Number(o['per-second']),
  })
  text = events.map(e => JSON.stringify(e) + '\n').join('')
}
if (o.out) writeFileSync(o.out, text)
else process.stdout.write(text)
