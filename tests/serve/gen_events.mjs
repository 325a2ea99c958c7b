#!/usr/bin/env node
// Deterministic signed events for the serve tests: a few authors, notes with t/e/p tags, crowded seconds
// (ties broken by id), replaceable (0, 3, 10002) and addressable (30023 by d) versions with equal-time
// ties, NIP-09 deletions by e id and a address (some by another author: no effect), NIP-40 expirations
// (past and far future), and one note whose content is HTML.
// Usage: node gen_events.mjs --count N --seed S [--base-time T] [--out FILE]
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createHash } from 'node:crypto'
import { nt } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: {
  count: { type: 'string', default: '1000' }, seed: { type: 'string', default: 's' },
  'base-time': { type: 'string', default: '1700000000' }, out: { type: 'string' } } })
const N = Number(o.count)
const BASE = Number(o['base-time'])
let state = createHash('sha256').update(o.seed).digest()
function rnd() { state = createHash('sha256').update(state).digest(); return state.readUInt32BE(0) / 2 ** 32 }
const pick = a => a[Math.floor(rnd() * a.length)]
const keys = Array.from({ length: 6 }, (_, i) => createHash('sha256').update(`${o.seed}/key/${i}`).digest())
const pubs = keys.map(k => nt.getPublicKey(k))
const events = []
// created_at over 3 UTC days, clustered so many events share a second.
function when() {
  const r = rnd()
  if (r < 0.15) return BASE + 100  // one crowded second
  return BASE + Math.floor(rnd() * 3) * 86400 + Math.floor(rnd() * 120)
}
function make(k, kind, tags, content, created_at = when()) {
  const ev = nt.finalizeEvent({ kind, created_at, tags, content }, keys[k])
  events.push(ev)
  return ev
}
for (let i = 0; i < N; i++) {
  const k = Math.floor(rnd() * rnd() * keys.length)  // skewed: a few busy authors
  const r = rnd()
  const prior = events.length ? pick(events) : null
  if (r < 0.40) {
    const tags = [['t', pick(['nostr', 'bitcoin', 'art', 'news'])]]
    if (prior && rnd() < 0.5) tags.push(['e', prior.id])
    if (rnd() < 0.5) tags.push(['p', pick(pubs)])
    if (rnd() < 0.05) tags.push(['expiration', String(rnd() < 0.5 ? 1000 : 4000000000)])
    make(k, 1, tags, `note ${i} ${pick(['gm', 'hello "world"', 'line\nbreak', 'ünïcödé ⚡', 'tab\there \\ back', '\u0001\u001f ctl', '\u2028 \u007f </p>'])}`)
  } else if (r < 0.55 && prior) {
    make(k, 7, [['e', prior.id], ['p', prior.pubkey]], pick(['+', '🤙']))
  } else if (r < 0.68) {
    const kind = pick([0, 3, 10002])
    // Equal-time versions now and then, so "latest" needs the lowest-id tie-break.
    const t = rnd() < 0.3 ? BASE + 7 : when()
    make(k, kind, kind === 3 ? [['p', pick(pubs)]] : [], `${kind} v${i}`, t)
  } else if (r < 0.80) {
    const d = pick(['alpha', 'beta', 'gamma', ''])
    const tags = d === '' && rnd() < 0.5 ? [] : [['d', d]]
    tags.push(['t', pick(['art', 'news'])])
    make(k, 30023, tags, `article ${d} v${i}`, rnd() < 0.3 ? BASE + 9 : when())
  } else if (r < 0.88 && prior) {
    // A deletion: usually by the author of the target (effective), sometimes by someone else (no effect).
    const target = rnd() < 0.6 ? (events.filter(e => e.pubkey === pubs[k] && e.kind !== 5).pop() || prior) : prior
    const tags = [['e', target.id]]
    if (rnd() < 0.4) tags.push(['a', `${pick([0, 30023])}:${pubs[k]}:${pick(['alpha', 'beta', ''])}`])
    make(k, 5, tags, 'deleted', rnd() < 0.5 ? target.created_at : when())
  } else {
    make(k, 42, [['e', prior ? prior.id : '0'.repeat(64)], ['t', 'chat']], `chat ${i}`)
  }
}
make(0, 1, [['t', 'xss']], '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>', BASE + 50)
const text = events.map(e => JSON.stringify(e) + '\n').join('')
if (o.out) writeFileSync(o.out, text); else process.stdout.write(text)
