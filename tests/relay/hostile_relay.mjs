#!/usr/bin/env node
// A scripted hostile relay (plain `ws`, no relay logic): filters are ignored; every REQ (on any
// connection) is answered with the chosen scenarios, in the order given, followed by the GENUINE events
// (valid, signed) and ["EOSE", sub]. The connection is then left open (the relay sends nothing more).
//
// Usage: node hostile_relay.mjs --scenario NAME[,NAME...] [--scenario NAME...] [--port 0] [--host 127.0.0.1]
//          [--ready-file F] [--tls-cert C --tls-key K] [--seed hostile] [--count 5] [--events FILE.jsonl]
//          [--base-time 1700000000] [--oversize-bytes 2097152] [--out GENUINE.jsonl] [--watch-pid PID]
// Genuine events: --events FILE, else --count deterministic events of --seed (as sign_events.mjs --seed S
//   --count N); --out writes them as JSONL, so a test knows what must end up archived.
// Scenarios:
//   garbage       invalid JSON, [], {}, ["EVENT"], bare numbers/strings/null, a 100 kB JSON string,
//                 ["EVENT",sub,<event with a 10 kB id>], events of wrong shapes, an EVENT for an unknown
//                 subscription (a valid "stray" event, id printed as "INFO stray <id>": keeping or dropping it
//                 is the archiver's policy, the test decides), 100 NOTICEs, ["AUTH","x"] x 1000,
//                 unsolicited ["OK",...], ["EOSE"] / ["EOSE","unknown"], ["CLOSED","unknown",...], unknown types
//   binary        binary frames: random bytes, and an EVENT message for the "binary" event (id printed as
//                 "INFO binary <id>") sent as a binary frame
//   oversize      the FIRST REQ is answered with one text frame of more than --oversize-bytes first (an
//                 EVENT of a validly signed event, id printed as "INFO oversize <id>"), then like any other
//                 (the other scenarios + genuine events + EOSE), as a relay holding one huge event would
//   silent        completes the handshake and then never sends anything, not even pongs (autoPong off)
//   forged-first  before each genuine event, a forged copy with the same id (alternately a flipped
//                 signature nibble, or altered content with the original id and sig)
//   valid-stream  nothing extra: just the genuine events and EOSE
// Stdout: "READY port=N ...", "INFO ..." lines, "CONNECT c=N", one "RECV c=N <text>" per client message
// (clipped at 2000 chars), "PING c=N" per ping received, "SENT c=N sub=S frames=F" per answered REQ,
// "DISCONNECT c=N".

import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import { SERVER_OPTIONS, clip, frameText, generateEvents, keyFor, listen, log, readJsonl, signEvent } from './lib.mjs'

const SCENARIOS = ['garbage', 'binary', 'oversize', 'silent', 'forged-first', 'valid-stream']
const { values: o } = parseArgs({
  options: {
    ...SERVER_OPTIONS,
    scenario: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string', default: 'hostile' },
    count: { type: 'string', default: '5' },
    events: { type: 'string' },
    'base-time': { type: 'string', default: '1700000000' },
    'oversize-bytes': { type: 'string', default: String(2 * 1024 * 1024) },
    out: { type: 'string' },
  },
})
const scenarios = o.scenario.flatMap(s => s.split(',')).filter(Boolean)
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; known: ${SCENARIOS}`)
if (!scenarios.length) throw new Error(`--scenario is required; known: ${SCENARIOS}`)
const has = s => scenarios.includes(s)

const baseTime = Number(o['base-time'])
const genuine = o.events ? readJsonl(o.events) : generateEvents({ count: Number(o.count), seed: o.seed, baseTime })
if (o.out) writeFileSync(o.out, genuine.map(e => JSON.stringify(e) + '\n').join(''))
const odd = (i, content) => signEvent({ kind: 1, created_at: baseTime + 100000 + i, content }, keyFor(o.seed, 90 + i))
const stray = odd(0, 'stray: sent for a subscription id the client never opened')
const binaryEvent = odd(1, 'binary: sent in a binary frame')
let oversizeEvent = null // built on first use: signing megabytes is not free
let oversizeSent = false

// Deterministic pseudo-random bytes.
function bytes(n, seed) {
  const b = Buffer.alloc(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    b[i] = x & 0xff
  }
  return b
}

function garbageFrames(sub) {
  const g = genuine[0] || stray
  const j = JSON.stringify
  const f = [
    'this is not json {',
    '[',
    '[]',
    '{}',
    '["EVENT"]',
    j(['EVENT', sub]),
    j(['EVENT', sub, g, 'extra']),
    '42',
    '-1e309',
    '"a bare string"',
    'null',
    'true',
    j('x'.repeat(100 * 1024)),
    j(['EVENT', sub, { ...g, id: 'a'.repeat(10 * 1024) }]),
    j(['EVENT', sub, 'not an object']),
    j(['EVENT', sub, null]),
    j(['EVENT', sub, { ...g, id: 123, pubkey: null, created_at: 'yesterday', kind: -1, tags: 'none' }]),
    j(['EVENT', sub, { ...g, tags: [['t', 1, null, { x: 1 }]] }]),
    j(['EVENT', sub, { id: g.id }]),
    j(['EVENT', 'no-such-subscription', stray]),
    j([sub, 'EVENT', g]),
    j(['UNKNOWN-TYPE', sub, 1]),
    j(['OK', g.id, true, '']),
    j(['OK', 'not-an-id', 'yes']),
    j(['EOSE']),
    j(['EOSE', 'no-such-subscription']),
    j(['CLOSED', 'no-such-subscription', 'error: you never asked']),
    j(['COUNT', sub, { count: -5 }]),
    '["EVENT", "' + sub + '", {"id": "\\ud800", "kind": 1}]',
  ]
  for (let i = 0; i < 100; i++) f.push(j(['NOTICE', `notice spam ${i}`]))
  for (let i = 0; i < 1000; i++) f.push(j(['AUTH', 'x']))
  return f.map(text => ({ text }))
}

function binaryFrames(sub) {
  return [
    { binary: bytes(1024, 7) },
    { binary: Buffer.alloc(0) },
    { binary: Buffer.from(JSON.stringify(['EVENT', sub, binaryEvent])) },
    { binary: bytes(64 * 1024, 11) },
  ]
}

function forged(ev, i) {
  if (i % 2 === 0) {
    const n = parseInt(ev.sig[10], 16) ^ 1
    return { ...ev, sig: ev.sig.slice(0, 10) + n.toString(16) + ev.sig.slice(11) }
  }
  return { ...ev, content: ev.content + ' (forged)' }
}

function answer(sub) {
  const frames = []
  if (has('garbage')) frames.push(...garbageFrames(sub))
  if (has('binary')) frames.push(...binaryFrames(sub))
  genuine.forEach((ev, i) => {
    if (has('forged-first')) frames.push({ text: JSON.stringify(['EVENT', sub, forged(ev, i)]) })
    frames.push({ text: JSON.stringify(['EVENT', sub, ev]) })
  })
  frames.push({ text: JSON.stringify(['EOSE', sub]) })
  return frames
}

const { wss } = await listen(o, { wsOptions: { autoPong: false } })
log(`INFO scenarios ${scenarios.join(',')} genuine ${genuine.length}`)
log(`INFO stray ${stray.id}`)
log(`INFO binary ${binaryEvent.id}`)

let nextConn = 1
wss.on('connection', ws => {
  const c = nextConn++
  log(`CONNECT c=${c}`)
  ws.on('ping', () => {
    log(`PING c=${c}`)
    if (!has('silent')) ws.pong()
  })
  ws.on('message', (data, isBinary) => {
    const text = frameText(data)
    log(`RECV c=${c} ${isBinary ? '(binary) ' : ''}${clip(text, 2000)}`)
    if (has('silent')) return
    let m
    try {
      m = JSON.parse(text)
    } catch {
      return
    }
    if (!Array.isArray(m) || m[0] !== 'REQ' || typeof m[1] !== 'string') return
    const sub = m[1]
    if (has('oversize') && !oversizeSent) {
      oversizeSent = true
      const size = Number(o['oversize-bytes'])
      oversizeEvent ??= signEvent({ kind: 1, created_at: baseTime + 100002, content: 'o'.repeat(size + 1) }, keyFor(o.seed, 93))
      log(`INFO oversize ${oversizeEvent.id}`)
      ws.send(JSON.stringify(['EVENT', sub, oversizeEvent]))
      log(`SENT c=${c} sub=${sub} frames=1 oversize`)
    }
    const frames = answer(sub)
    for (const f of frames) {
      if (ws.readyState !== ws.OPEN) break
      if (f.binary) ws.send(f.binary, { binary: true })
      else ws.send(f.text)
    }
    log(`SENT c=${c} sub=${sub} frames=${frames.length}`)
  })
  ws.on('close', () => log(`DISCONNECT c=${c}`))
  ws.on('error', e => log(`ERROR c=${c} ${e.message}`))
})
