#!/usr/bin/env node
// A fast relay for benchmarks: on each REQ streams the selected lines of a JSONL file of pre-signed events
// verbatim as ["EVENT",<sub>,<line>] (filters are ignored), as fast as the socket drains, then
// ["EOSE",<sub>]. The file is read from disk per REQ (nothing is buffered per client beyond ws's send
// queue, which is kept under --high-water bytes). CLOSE or disconnect stops the stream. A REQ whose filter
// has `until` (a paging client's next page, after the first answer: everything) gets just ["EOSE",<sub>].
//
// Usage: node replay_relay.mjs --events FILE.jsonl [--offset O --count C | --shard i/n [--replicas r]]
//          [--port 0] [--host 127.0.0.1] [--ready-file F] [--tls-cert C --tls-key K] [--high-water 4194304]
//          [--permessage-deflate] [--watch-pid PID] [--prepare-sub SUB]
// --prepare-sub SUB builds the frames of subscription SUB (e.g. the daemon's first, "pb1") at startup, in
// 1 MiB socket writes, so a benchmark's timed window does not pay for reading and framing the file: on a
// 2-core machine the relays share the CPU with the daemon being measured. Used only on connections
// without permessage-deflate; any other subscription id is framed as it streams.
// Selection of line k (0-based) of the T lines:
//   --offset O --count C   ((k - O) mod T) < C   (wraps around; default all lines)
//   --shard i/n            (k mod n) == i, or with --replicas r: ((i - k mod n) mod n) < r; e.g. 4 relays
//                          --shard 0/4 .. 3/4 --replicas 2: every event on 2 relays, 50% on each relay
// Stdout: "READY port=N ...", "INFO lines T selected S", "REQ c=N sub=S", "DONE c=N sub=S sent=N ms=M"
// (or "STOPPED ..." when the client closed the sub or went away).

import { createReadStream } from 'node:fs'
import { parseArgs } from 'node:util'
import { SERVER_OPTIONS, clip, frameText, listen, log } from './lib.mjs'

const { values: o } = parseArgs({
  options: {
    ...SERVER_OPTIONS,
    events: { type: 'string' },
    offset: { type: 'string', default: '0' },
    count: { type: 'string' },
    shard: { type: 'string' },
    replicas: { type: 'string', default: '1' },
    'high-water': { type: 'string', default: String(4 * 1024 * 1024) },
    'prepare-sub': { type: 'string' },
  },
})
if (!o.events) throw new Error('--events FILE.jsonl is required')
const highWater = Number(o['high-water'])

// Yields arrays of the file's non-blank lines (as Buffers, no decoding), one array per 1 MiB read.
async function* lineBatches() {
  let rest = null
  const batch = (buf, final) => {
    const out = []
    let start = 0
    for (;;) {
      let nl = buf.indexOf(10, start)
      if (nl === -1) {
        if (!final) break
        nl = buf.length
      }
      let end = nl
      if (end > start && buf[end - 1] === 13) end--
      const line = buf.subarray(start, end)
      if (!(line.length < 8 && line.toString().trim() === '')) out.push(line) // skip blank lines
      start = nl + 1
      if (start >= buf.length) break
    }
    rest = start < buf.length ? buf.subarray(start) : null
    return out
  }
  for await (const chunk of createReadStream(o.events, { highWaterMark: 1 << 20 }))
    yield batch(rest ? Buffer.concat([rest, chunk]) : chunk, false)
  if (rest) yield batch(rest, true)
}
let total = 0
for await (const b of lineBatches()) total += b.length
let selected
if (o.shard) {
  const [i, n] = o.shard.split('/').map(Number)
  const r = Number(o.replicas)
  selected = k => (((i - (k % n)) % n) + n) % n < r
} else {
  const off = Number(o.offset)
  const cnt = o.count === undefined ? total : Number(o.count)
  selected = k => ((((k - off) % total) + total) % total) < cnt
}
let nsel = 0
for (let k = 0; k < total; k++) if (selected(k)) nsel++

// A server's frames are not masked: header + payload.
const frameHeader = n =>
  n < 126 ? Buffer.from([0x81, n])
  : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 255])
  : Buffer.concat([Buffer.from([0x81, 127, 0, 0]), Buffer.from([(n / 2 ** 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255])])

// The raw frames of subscription `sub`, one Buffer per 1 MiB of input read.
async function buildFrames(sub) {
  const prefix = Buffer.from(`["EVENT",${JSON.stringify(sub)},`)
  const suffix = Buffer.from(']')
  const out = []
  let k = 0
  for await (const lines of lineBatches()) {
    const parts = []
    for (const line of lines) if (selected(k++)) parts.push(frameHeader(prefix.length + line.length + 1), prefix, line, suffix)
    if (parts.length) out.push(Buffer.concat(parts))
  }
  return out
}
const prepared = o['prepare-sub'] === undefined ? null : { sub: o['prepare-sub'], writes: await buildFrames(o['prepare-sub']) }

const { wss } = await listen(o)
log(`INFO lines ${total} selected ${nsel}`)

let nextConn = 1
wss.on('connection', ws => {
  const c = nextConn++
  const streams = new Map() // sub -> { stopped }

  async function stream(sub) {
    const state = { stopped: false }
    streams.get(sub) && (streams.get(sub).stopped = true)
    streams.set(sub, state)
    const t0 = process.hrtime.bigint()
    const prefix = Buffer.from(`["EVENT",${JSON.stringify(sub)},`)
    const suffix = Buffer.from(']')
    const frame = line => Buffer.concat([prefix, line, suffix])
    let k = 0
    let sent = 0
    // Without permessage-deflate the frames of each 1 MiB read are built here (a server's frames are not
    // masked: header + payload) and leave in one socket write: ws.send() per event cost this process ~7 us
    // per frame, CPU the daemon being measured shares (bench/bench_daemon.sh prints the relays' CPU).
    const socket = ws._socket
    const raw = !ws.extensions
    const write = async buf => {
      if (!socket.write(buf) && socket.writableLength > highWater) await new Promise(resolve => socket.once('drain', resolve))
    }
    if (raw && prepared && prepared.sub === sub) {
      let i = 0
      for (; i < prepared.writes.length && !state.stopped && ws.readyState === ws.OPEN; i++) await write(prepared.writes[i])
      if (i === prepared.writes.length) sent = nsel
    } else outer: for await (const lines of lineBatches()) {
      const parts = []
      for (const line of lines) {
        if (state.stopped || ws.readyState !== ws.OPEN) break outer
        if (!selected(k++)) continue
        sent++
        if (raw) {
          parts.push(frameHeader(prefix.length + line.length + 1), prefix, line, suffix)
          continue
        }
        if (ws.bufferedAmount > highWater) {
          // Wait until everything queued so far has been written to the socket.
          await new Promise(resolve => ws.send(frame(line), { binary: false }, resolve))
        } else ws.send(frame(line), { binary: false })
      }
      if (parts.length) await write(Buffer.concat(parts))
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (state.stopped || ws.readyState !== ws.OPEN) return log(`STOPPED c=${c} sub=${sub} sent=${sent}`)
    ws.send(JSON.stringify(['EOSE', sub]))
    log(`DONE c=${c} sub=${sub} sent=${sent} ms=${ms.toFixed(1)}`)
  }

  ws.on('message', data => {
    const text = frameText(data)
    let m
    try {
      m = JSON.parse(text)
    } catch {
      return log(`RECV c=${c} INVALID ${clip(text, 200)}`)
    }
    if (!Array.isArray(m)) return
    if (m[0] === 'REQ' && typeof m[1] === 'string') {
      log(`REQ c=${c} sub=${m[1]} ${clip(text, 500)}`)
      if (m.slice(2).some(f => f && f.until !== undefined)) return ws.send(JSON.stringify(['EOSE', m[1]]))
      stream(m[1]).catch(e => log(`ERROR c=${c} ${e.message}`))
    } else if (m[0] === 'CLOSE' && streams.has(m[1])) {
      streams.get(m[1]).stopped = true
      streams.delete(m[1])
    } else if (m[0] === 'EVENT' && m[1] && typeof m[1].id === 'string') {
      ws.send(JSON.stringify(['OK', m[1].id, false, 'blocked: replay relay is read-only']))
    }
  })
  ws.on('close', () => {
    for (const s of streams.values()) s.stopped = true
  })
  ws.on('error', () => {})
})
