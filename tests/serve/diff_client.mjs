#!/usr/bin/env node
// Randomized differential test of `proton-beam serve` against oracle.mjs, through nostr-tools' Relay:
// --reqs random REQs (1-3 filters: ids, authors, kinds, #t/#e/#p/#d, since/until on exact created_at
// edges, limits incl. 0 and above --max-limit) compared event by event and in order; COUNT likewise;
// POST /api/v1/req must equal the relay's answer; GET /api/v1/events pages walk the whole archive exactly
// once (in NIP-01 order, across crowded seconds). Exits 1 on the first difference, printing the REQ.
// Usage: node diff_client.mjs --port P --events FILE [--history] [--max-limit N] [--default-limit N]
//                             [--reqs 1000] [--seed S] [--no-deflate]
import { parseArgs } from 'node:util'
import { createHash } from 'node:crypto'
import { require, WebSocket, matchFilter } from '../relay/lib.mjs'
import { Oracle, loadEvents } from './oracle.mjs'

const { Relay, useWebSocketImplementation } = require('nostr-tools/relay')
const { values: o } = parseArgs({ options: {
  port: { type: 'string' }, events: { type: 'string' }, history: { type: 'boolean', default: false },
  'no-deflate': { type: 'boolean', default: false },
  'max-limit': { type: 'string', default: '5000' }, 'default-limit': { type: 'string', default: '500' },
  reqs: { type: 'string', default: '1000' }, counts: { type: 'string', default: '200' }, seed: { type: 'string', default: 'd' } } })
// ws offers permessage-deflate by default (serve then compresses through Beast); --no-deflate takes the
// path where serve frames its messages itself.
// Each socket's negotiated extensions are recorded, so the run can check which path it took.
const negotiated = []
useWebSocketImplementation(class extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { perMessageDeflate: !o['no-deflate'] })
    this.on('open', () => negotiated.push(this.extensions))
  }
})
const events = loadEvents(o.events)
const oracle = new Oracle(events, { history: o.history, maxLimit: Number(o['max-limit']), defaultLimit: Number(o['default-limit']) })
const base = `http://127.0.0.1:${o.port}`
let state = createHash('sha256').update(o.seed).digest()
const rnd = () => { state = createHash('sha256').update(state).digest(); return state.readUInt32BE(0) / 2 ** 32 }
const pick = a => a[Math.floor(rnd() * a.length)]
const some = (a, max) => { const n = 1 + Math.floor(rnd() * max); return [...new Set(Array.from({ length: n }, () => pick(a)))] }
const ids = events.map(e => e.id), pubs = [...new Set(events.map(e => e.pubkey))]
const times = [...new Set(events.map(e => e.created_at))]
const tagValues = name => [...new Set(events.flatMap(e => e.tags.filter(t => t[0] === name && t.length >= 2).map(t => t[1])))]
const tv = { t: tagValues('t'), e: tagValues('e'), p: tagValues('p'), d: tagValues('d') }
function randomFilter() {
  const f = {}
  if (rnd() < 0.15) f.ids = some(ids, 4).concat(rnd() < 0.3 ? ['f'.repeat(64)] : [])
  if (rnd() < 0.4) f.authors = some(pubs, 3)
  if (rnd() < 0.5) f.kinds = some([0, 1, 3, 5, 7, 42, 10002, 30023, 9], 3)
  for (const name of ['t', 'e', 'p', 'd']) if (rnd() < 0.12) f['#' + name] = some(tv[name], 3)
  if (rnd() < 0.35) f.since = pick(times) + pick([-1, 0, 0, 1])
  if (rnd() < 0.35) f.until = pick(times) + pick([-1, 0, 0, 1])
  const r = rnd()
  if (r < 0.1) f.limit = 0
  else if (r < 0.6) f.limit = 1 + Math.floor(rnd() * 30)
  else if (r < 0.7) f.limit = 100000  // clamped to --max-limit
  return f
}
const randomFilters = () => Array.from({ length: rnd() < 0.6 ? 1 : 2 + Math.floor(rnd() * 2) }, randomFilter)

function fail(what, filters, got, want) {
  console.error(`FAIL ${what} for ${JSON.stringify(filters)}`)
  console.error(`  got  ${got.length}: ${JSON.stringify(got.slice(0, 8))}`)
  console.error(`  want ${want.length}: ${JSON.stringify(want.slice(0, 8))}`)
  process.exit(1)
}
function reqViaRelay(relay, filters) {
  return new Promise((resolve, reject) => {
    const got = []
    const timer = setTimeout(() => reject(new Error('no EOSE for ' + JSON.stringify(filters))), 60000)
    const sub = relay.subscribe(filters, {
      onevent: ev => got.push(ev.id),
      oneose: () => { clearTimeout(timer); resolve(got); sub.close() },
      onclose: reason => { clearTimeout(timer); reject(new Error('closed: ' + reason)) },
    })
  })
}
async function post(path, body) {
  const r = await fetch(base + path, { method: 'POST', body: JSON.stringify(body) })
  if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`)
  return r
}

const relay = await Relay.connect(`ws://127.0.0.1:${o.port}/`)
let eventsCompared = 0, nonEmpty = 0
for (let i = 0; i < Number(o.reqs); i++) {
  const filters = randomFilters()
  const want = oracle.req(filters).map(e => e.id)
  const got = await reqViaRelay(relay, filters)
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`REQ #${i}`, filters, got, want)
  eventsCompared += got.length
  if (got.length) nonEmpty++
  if (i % 10 === 0) {  // the REST JSONL answer is the same list in the same order, each line byte for byte
    // what JSON.stringify writes of the event (keys in NIP-01 order): the server writes it from the record
    const lines = (await (await post('/api/v1/req', filters)).text()).split('\n').filter(Boolean)
    const wantLines = oracle.req(filters).map(e => JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at,
      kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }))
    if (JSON.stringify(lines) !== JSON.stringify(wantLines)) fail(`POST /api/v1/req #${i}`, filters, lines, wantLines)
  }
}
for (let i = 0; i < Number(o.counts); i++) {
  const filters = randomFilters()
  const want = oracle.count(filters)
  const got = await relay.count(filters, {})
  if (got !== want) fail(`COUNT #${i}`, filters, [got], [want])
  if (i % 10 === 0) {
    const rest = (await (await post('/api/v1/count', filters)).json()).count
    if (rest !== want) fail(`POST /api/v1/count #${i}`, filters, [rest], [want])
  }
}
// REST paging: the whole archive (and one kind, one tag) in pages of 7 and of 50 (with --slice-ms 0 a page of
// 50 is built over several slices), exactly once, in order.
for (const [query, filter, size] of [['', {}, 7], ['kinds=1,7', { kinds: [1, 7] }, 7], ['%23t=art', { '#t': ['art'] }, 7],
                                     ['', {}, 50], ['kinds=1,7', { kinds: [1, 7] }, 50]]) {
  const want = oracle.served.filter(ev => matchFilter(filter, ev)).map(e => e.id)
  const got = []
  let cursor = null, pages = 0
  do {
    const url = `${base}/api/v1/events?limit=${size}${query ? '&' + query : ''}${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`
    const body = await (await fetch(url)).json()
    got.push(...body.events.map(e => e.id))
    cursor = body.next
    if (++pages > 10000) fail('paging does not end', [filter], got, want)
  } while (cursor)
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`GET /api/v1/events?${query} pages of ${size}`, [filter], got, want)
}
relay.close()
const tookWantedPath = x => o['no-deflate'] ? x === '' : x.startsWith('permessage-deflate')
if (negotiated.length === 0 || !negotiated.every(tookWantedPath))
  fail('negotiated extensions', [], negotiated, [o['no-deflate'] ? '' : 'permessage-deflate'])
console.log(`OK ${o.reqs} REQs (${nonEmpty} non-empty, ${eventsCompared} events compared), ${o.counts} COUNTs, REST paging; served ${oracle.served.length} of ${events.length}`)
process.exit(0)
