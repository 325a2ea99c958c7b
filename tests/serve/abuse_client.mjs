#!/usr/bin/env node
// Bad inputs and caps against `proton-beam serve` with a raw WebSocket: each gets its answer (NOTICE /
// CLOSED / OK / close code / HTTP status) and the server keeps serving (a valid REQ still gets EOSE after
// every case). Also NIP-11 fields and CORS, EVENT refused, subscription replacement, limit 0, /health,
// /metrics, /api/v1/events/ID. Usage: node abuse_client.mjs --port P --max-subscriptions N --max-filters N
import { parseArgs } from 'node:util'
import { WebSocket } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: { port: { type: 'string' }, 'max-subscriptions': { type: 'string' },
  'max-filters': { type: 'string' }, 'known-id': { type: 'string' } } })
const url = `ws://127.0.0.1:${o.port}/`, base = `http://127.0.0.1:${o.port}`
let failures = 0
const check = (cond, what) => { if (!cond) { console.error('FAIL: ' + what); failures++ } else console.log('ok: ' + what) }

function open(options = {}) {  // options: the ws client's (e.g. perMessageDeflate: false)
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options)
    const inbox = []
    let waiter = null
    ws.on('message', d => { inbox.push(JSON.parse(d.toString())); if (waiter) waiter() })
    ws.on('close', (code) => { ws.closedWith = code; if (waiter) waiter() })
    ws.next = (pred, ms = 20000) => new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('timeout waiting')), ms)
      const tryIt = () => {
        const i = inbox.findIndex(pred)
        if (i >= 0) { clearTimeout(t); waiter = null; res(inbox.splice(i, 1)[0]) }
        else if (ws.closedWith !== undefined) { clearTimeout(t); waiter = null; res(null) }
      }
      waiter = tryIt
      tryIt()
    })
    ws.on('open', () => resolve(ws))
    ws.on('error', reject)
  })
}
async function stillServes(ws, tag) {
  ws.send(JSON.stringify(['REQ', 'alive', { limit: 1 }]))
  const m = await ws.next(m => m[0] === 'EOSE' && m[1] === 'alive')
  check(m !== null, `still serving after ${tag}`)
  ws.send(JSON.stringify(['CLOSE', 'alive']))
}

const ws = await open()
ws.send('{not json'); check((await ws.next(m => m[0] === 'NOTICE'))[1].startsWith('invalid:'), 'malformed JSON -> NOTICE invalid:')
await stillServes(ws, 'malformed JSON')
ws.send(JSON.stringify(['REQ', 'many', ...Array.from({ length: 10000 }, () => ({}))]))
let m = await ws.next(m => m[0] === 'CLOSED' && m[1] === 'many')
check(m && m[2].startsWith('invalid:') && m[2].includes('too many filters'), '10,000 filters -> CLOSED invalid: too many filters')
await stillServes(ws, '10,000 filters')
ws.send(JSON.stringify(['REQ', 'x'.repeat(1000000), {}]))
m = await ws.next(m => m[0] === 'NOTICE')
check(m && m[1].startsWith('invalid:') && m[1].includes('subscription id'), '1 MB subscription id -> NOTICE invalid:')
await stillServes(ws, '1 MB subscription id')
ws.send(Buffer.from([0, 1, 2, 3]), { binary: true })
m = await ws.next(m => m[0] === 'NOTICE')
check(m && m[1].startsWith('invalid:') && m[1].includes('binary'), 'binary frame -> NOTICE invalid:')
await stillServes(ws, 'binary frame')
ws.send(JSON.stringify(['REQ', 'neg', { limit: -1 }]))
m = await ws.next(m => m[0] === 'CLOSED' && m[1] === 'neg')
check(m && m[2].startsWith('invalid:'), 'negative limit -> CLOSED invalid:')
ws.send(JSON.stringify(['REQ', 'uns', { search: 'x' }]))
m = await ws.next(m => m[0] === 'CLOSED' && m[1] === 'uns')
check(m && m[2].startsWith('unsupported:'), 'unknown key -> CLOSED unsupported:')
ws.send(JSON.stringify(['REQ', 'tagx', { '#ab': ['x'] }]))
m = await ws.next(m => m[0] === 'CLOSED' && m[1] === 'tagx')
check(m && m[2].startsWith('unsupported:'), 'multi-letter tag -> CLOSED unsupported:')
ws.send(JSON.stringify(['FOO', 'x']))
check((await ws.next(m => m[0] === 'NOTICE'))[1].startsWith('invalid:'), 'unknown verb -> NOTICE invalid:')
ws.send(JSON.stringify(['EVENT', { id: 'ab'.repeat(32), kind: 1 }]))
m = await ws.next(m => m[0] === 'OK')
check(m && m[1] === 'ab'.repeat(32) && m[2] === false && m[3] === 'blocked: read-only archive', 'EVENT -> OK false blocked: read-only archive')
ws.send(JSON.stringify(['REQ', 'zero', { limit: 0 }]))
m = await ws.next(m => m[1] === 'zero')
check(m && m[0] === 'EOSE', 'limit 0 -> EOSE at once')
ws.send(JSON.stringify(['CLOSE', 'zero']))
// Subscription cap: max open subscriptions succeed (kept open by the live tail), the next is CLOSED.
const maxSubs = Number(o['max-subscriptions'])
for (let i = 0; i < maxSubs; i++) ws.send(JSON.stringify(['REQ', 's' + i, { limit: 1 }]))
for (let i = 0; i < maxSubs; i++) await ws.next(m => m[0] === 'EOSE' && m[1] === 's' + i)
ws.send(JSON.stringify(['REQ', 's0', { limit: 2 }]))  // replacing a live id is not a new subscription
check((await ws.next(m => m[1] === 's0' && (m[0] === 'EOSE' || m[0] === 'CLOSED')))[0] === 'EOSE', 'REQ with a live id replaces it')
ws.send(JSON.stringify(['REQ', 'over', { limit: 1 }]))
m = await ws.next(m => m[1] === 'over' && m[0] !== 'EVENT')
check(m && m[0] === 'CLOSED' && m[2].startsWith('blocked:'), `subscription ${maxSubs + 1} -> CLOSED blocked:`)
ws.send(JSON.stringify(['CLOSE', 's1']))
ws.send(JSON.stringify(['REQ', 'after', { limit: 1 }]))
m = await ws.next(m => m[1] === 'after' && m[0] !== 'EVENT')
check(m[0] === 'EOSE', 'CLOSE frees a subscription slot ' + JSON.stringify(m))
// Filter cap.
const maxF = Number(o['max-filters'])
ws.send(JSON.stringify(['COUNT', 'fc', ...Array.from({ length: maxF + 1 }, () => ({}))]))
m = await ws.next(m => m[1] === 'fc')
check(m && m[0] === 'CLOSED' && m[2].startsWith('invalid:'), 'COUNT over --max-filters -> CLOSED invalid:')
ws.send(JSON.stringify(['COUNT', 'c1', { kinds: [1] }]))
m = await ws.next(m => m[1] === 'c1')
check(m && m[0] === 'COUNT' && typeof m[2].count === 'number', 'COUNT -> ["COUNT", id, {count}]')
// Oversized message: the connection is closed with 1009, a new one works.
ws.send(JSON.stringify(['REQ', 'big', { ids: ['a'.repeat(2 << 20)] }]))
await ws.next(() => false, 20000).catch(() => null)
check(ws.closedWith === 1009, `message over the size cap -> close 1009 (got ${ws.closedWith})`)
const ws2 = await open()
await stillServes(ws2, 'an oversized message on another connection')
ws2.close()
// The same without permessage-deflate, after an answer (the session's own framing has written): the 2 MiB
// arrive as they are, the server stops reading after the frame header, and must drain the rest before it
// closes, or the kernel resets the connection and the close frame is lost (1006).
for (let i = 0; i < 3; i++) {
  const plain = await open({ perMessageDeflate: false })
  await stillServes(plain, `a connection without permessage-deflate (${i})`)
  plain.send(JSON.stringify(['REQ', 'big', { ids: ['a'.repeat(2 << 20)] }]))
  await plain.next(() => false, 20000).catch(() => null)
  check(plain.closedWith === 1009, `without permessage-deflate, after an answer: message over the size cap -> close 1009 (got ${plain.closedWith})`)
}

// HTTP side.
let r = await fetch(base + '/', { headers: { Accept: 'application/nostr+json' } })
const info = await r.json()
check(r.headers.get('access-control-allow-origin') === '*', 'NIP-11 has CORS header')
check(info.limitation && info.limitation.max_limit === 5000 && info.limitation.default_limit === 500 &&
  info.limitation.max_subscriptions === maxSubs && typeof info.limitation.max_message_length === 'number' &&
  info.limitation.max_subid_length === 64, 'NIP-11 limitation fields')
check(info.supported_nips.includes(45) && info.supported_nips.includes(11), 'NIP-11 supported_nips')
r = await fetch(base + '/health'); check(r.status === 200, '/health 200')
r = await fetch(base + '/metrics'); check((await r.text()).includes('pb_serve_reqs_total'), '/metrics has counters')
r = await fetch(base + '/api/v1/req', { method: 'POST', body: '{bad' }); check(r.status === 400, 'REST malformed body -> 400')
r = await fetch(base + '/api/v1/events?limit=-1'); check(r.status === 400, 'REST negative limit -> 400')
r = await fetch(base + '/api/v1/events/' + 'f'.repeat(64)); check(r.status === 404, 'REST unknown id -> 404')
r = await fetch(base + '/api/v1/events/' + o['known-id'])
check(r.status === 200 && (await r.json()).id === o['known-id'], 'REST /api/v1/events/ID')
r = await fetch(base + '/api/v1/stats'); const st = await r.json()
check(r.status === 200 && st.events > 0 && Array.isArray(st.kinds) && Array.isArray(st.days), '/api/v1/stats')
ws.terminate()
process.exit(failures ? 1 : 0)
