#!/usr/bin/env node
// Load generator for bench/bench_serve.sh: N WebSocket clients, each a closed loop (send a REQ, wait for
// its EOSE, send the next), drawing queries from the mix with values sampled from the corpus, so
// every query can hit. Prints one JSON object: queries/s, p50/p99 REQ->EOSE per query type and overall,
// events received, errors (CLOSED/NOTICE).
// Usage: node serve_load.mjs --url ws://127.0.0.1:PORT --corpus FILE.jsonl --clients 50 --seconds 20 [--types a,b]
import { closeSync, openSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(new URL('../tests/node/package.json', import.meta.url))
const WebSocket = require('ws')

const { values: o } = parseArgs({ options: {
  url: { type: 'string' }, corpus: { type: 'string' }, clients: { type: 'string', default: '50' },
  seconds: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' },
  'sample-lines': { type: 'string', default: '200000' }, seed: { type: 'string', default: '1' },
  types: { type: 'string' } } })

// Deterministic choice of query values (xorshift), so two runs ask the same questions.
let s = BigInt(o.seed) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn || 1n
function rnd() {
  s ^= s << 13n; s &= 0xffffffffffffffffn; s ^= s >> 7n; s ^= s << 17n; s &= 0xffffffffffffffffn
  return Number(s >> 11n) / 2 ** 53
}
const pick = a => a[Math.floor(rnd() * a.length)]

function sample() {
  const ids = [], authors = [], eTags = [], reactedP = [], kinds = new Set(), times = []
  // The head of the corpus is enough (and a 1M-event file is larger than a JS string may be).
  const buf = Buffer.alloc(256 << 20)
  const fd = openSync(o.corpus, 'r')
  const n = readSync(fd, buf, 0, buf.length, 0)
  closeSync(fd)
  const lines = buf.toString('utf8', 0, n).split('\n', Number(o['sample-lines']))
  for (const line of lines) {
    if (!line) continue
    let ev
    try { ev = JSON.parse(line) } catch { continue }
    if (typeof ev.id !== 'string' || ev.id.length !== 64) continue
    ids.push(ev.id); authors.push(ev.pubkey); kinds.add(ev.kind); times.push(ev.created_at)
    for (const t of ev.tags ?? []) {
      if (t[0] === 'e' && t[1]?.length === 64) eTags.push(t[1])
      if (ev.kind === 7 && t[0] === 'p' && t[1]?.length === 64) reactedP.push(t[1])
    }
  }
  times.sort((a, b) => a - b)
  return { ids, authors, eTags, reactedP, kinds: [...kinds], tmin: times[0], tmax: times[times.length - 1] }
}

const S = sample()
const MIX = [
  ['id', () => ({ ids: [pick(S.ids)] })],
  ['author_kinds', () => ({ authors: [pick(S.authors)], kinds: [1, 6, 7], limit: 20 })],
  ['tag_e', () => ({ '#e': [pick(S.eTags)] })],
  ['tag_p_kind7', () => ({ '#p': [pick(S.reactedP)], kinds: [7] })],
  ['kind_window', () => {
    const t = S.tmin + Math.floor(rnd() * (S.tmax - S.tmin))
    return { kinds: [pick([1, 7, 6])], since: t, until: t + 3600, limit: 100 }
  }],
  ['global_100', () => ({ limit: 100 })],
]

// --types id,tag_e: only those query types (to see what each costs alone).
if (o.types) {
  const keep = new Set(o.types.split(','))
  for (let i = MIX.length - 1; i >= 0; --i) if (!keep.has(MIX[i][0])) MIX.splice(i, 1)
  if (MIX.length === 0) throw new Error(`--types: none of ${o.types} is a query type`)
}
const stats = new Map(MIX.map(([name]) => [name, []]))
let events = 0, errors = 0, measuring = false, done = false
const errorSamples = []

const EVENT_PREFIX = '["EVENT",'

function client(n) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(o.url, { perMessageDeflate: false })
    let seq = 0, current = null
    const next = () => {
      if (done) { ws.close(); return }
      const [name, make] = MIX[(n + seq) % MIX.length]
      const id = `c${n}q${seq++}`
      current = { id, name, t0: process.hrtime.bigint() }
      ws.send(JSON.stringify(['REQ', id, make()]))
    }
    ws.on('open', next)
    ws.on('message', data => {
      // EVENTs are counted by their prefix, not parsed: the client shares the server's cores, and
      // parsing each event's JSON was most of its CPU.
      if (data.length > 9 && data.toString('latin1', 0, 9) === EVENT_PREFIX) { if (measuring) events++; return }
      const m = JSON.parse(data.toString())
      if (m[0] === 'EVENT') { if (measuring) events++; return }
      if (m[0] === 'EOSE' && current && m[1] === current.id) {
        const us = Number(process.hrtime.bigint() - current.t0) / 1000
        if (measuring) stats.get(current.name).push(us)
        ws.send(JSON.stringify(['CLOSE', current.id]))
        next()
        return
      }
      if (m[0] === 'CLOSED' || m[0] === 'NOTICE') {
        errors++
        if (errorSamples.length < 5) errorSamples.push(m)
        if (m[0] === 'CLOSED' && current && m[1] === current.id) next()
      }
    })
    ws.on('close', resolve)
    ws.on('error', reject)
  })
}

function pct(a, p) {
  if (a.length === 0) return null
  const sorted = [...a].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1000
}

const clients = Array.from({ length: Number(o.clients) }, (_, i) => client(i))
await new Promise(r => setTimeout(r, Number(o.warmup) * 1000))
measuring = true
const t0 = process.hrtime.bigint()
await new Promise(r => setTimeout(r, Number(o.seconds) * 1000))
measuring = false
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
done = true
await Promise.all(clients)

const all = [...stats.values()].flat()
const perType = {}
for (const [name, a] of stats) perType[name] = { queries: a.length, p50_ms: pct(a, 0.5), p99_ms: pct(a, 0.99), max_ms: pct(a, 1) }
console.log(JSON.stringify({
  clients: Number(o.clients), seconds: elapsed, queries: all.length, queries_per_s: all.length / elapsed,
  p50_ms: pct(all, 0.5), p99_ms: pct(all, 0.99), events_received: events, errors, error_samples: errorSamples,
  per_type: perType,
}))
