#!/usr/bin/env node
// Writes N deterministic signed events as JSONL (no relay needed). Same seed and options, same bytes
// (keys come from the seed, signatures use zero BIP-340 aux randomness, created_at = base-time + i).
// (tests/node/gen_events.mjs is a different thing: the tricky-encoding corpus of the nostr-tools crosscheck.)
//
// Usage: node sign_events.mjs --count N [--seed S] [--base-time 1700000000] [--authors 5]
//                             [--relay-list URL,URL...] [--per-second K] [--out FILE]   (default: stdout)
//                             [--contact-lists KB1,KB2,...]
//   --per-second K   K events share each created_at (base-time + floor(i / K)); default 1
//   Kind 1 notes with t/e/p/subject tags (e and p carry the --relay-list URLs as relay hints), preceded by
//   one kind-10002 relay list per author when --relay-list is given. The public keys: key i of seed S is
//   printed by `node sign_events.mjs --pubkeys --seed S --authors K`.
//   --contact-lists KB1,KB2,...  then one kind-3 contact list of about KBj kilobytes of JSON per size, list
//                    j by key 1000+j of the seed (a replaceable kind: one per author): up to 2,000 `p` tags
//                    (made-up 64-hex pubkeys, a relay hint, a petname; @nostr-relay/core refuses more tags)
//                    and, for the rest, the legacy relay map in the content, as old clients wrote it

import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateEvents, keyFor, pubkeyOf, signEvent } from './lib.mjs'

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
    'contact-lists': { type: 'string', default: '' },
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
  const follow = (j, k) => createHash('sha256').update(`${o.seed}/follow/${j}/${k}`).digest('hex')
  const sizes = o['contact-lists'] ? o['contact-lists'].split(',').map(Number) : []
  sizes.forEach((kb, j) => {
    const target = kb * 1000
    const tags = []
    let size = 0
    for (let k = 0; k < 2000 && size < target; k++) {
      tags.push(['p', follow(j, k), `wss://relay${k % 50}.example.com/`, `friend ${k}`])
      size += JSON.stringify(tags[k]).length + 1
    }
    const relays = {}
    for (let r = 0; size < target; r++, size += 70) relays[`wss://relay-${j}-${r}.example.org/`] = { read: true, write: r % 2 === 0 }
    const created_at = Number(o['base-time']) + Number(o.count) + j
    events.push(signEvent({ kind: 3, created_at, tags, content: JSON.stringify(relays) }, keyFor(o.seed, 1000 + j)))
  })
  text = events.map(e => JSON.stringify(e) + '\n').join('')
}
if (o.out) writeFileSync(o.out, text)
else process.stdout.write(text)
