#!/usr/bin/env node
// A tiny raw `ws` client for checking what a relay (usually hostile_relay.mjs) sends: connects, optionally
// pings, sends ["REQ", "probe", {}] and records every frame until ["EOSE","probe"] (or the connection
// ends, or --timeout-ms), then prints one JSON summary line:
//   {"text":N,"binary":N,"eose":bool,"valid":[ids verified by nostr-tools],"invalid_events":N,
//    "pong":bool,"close_code":N|null,"error":"..."|null,"notices":N,"auth":N}
// Usage: node probe.mjs URL [--ping] [--no-req] [--max-payload BYTES] [--timeout-ms 10000]
//                           [--after-eose-ms 0] [--ca F] [--insecure]
//   --no-req          only wait (with --ping: for a pong) until --timeout-ms
//   --after-eose-ms   keep listening this long after EOSE (to see that nothing else arrives)
// The timeout ends the probe without error: a silent relay is detected by "pong":false,"eose":false.

import { parseArgs } from 'node:util'
import { nt, webSocketClass } from './lib.mjs'

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ping: { type: 'boolean', default: false },
    'no-req': { type: 'boolean', default: false },
    'max-payload': { type: 'string' },
    'timeout-ms': { type: 'string', default: '10000' },
    'after-eose-ms': { type: 'string', default: '0' },
    ca: { type: 'string' },
    insecure: { type: 'boolean', default: false },
  },
})
const r = { text: 0, binary: 0, eose: false, valid: [], invalid_events: 0, pong: false, close_code: null, error: null, notices: 0, auth: 0 }
let done = false
const finish = () => {
  if (done) return
  done = true
  console.log(JSON.stringify(r))
  process.exit(0)
}
setTimeout(finish, Number(o['timeout-ms']))

const WS = webSocketClass(o)
const ws = new WS(positionals[0], o['max-payload'] ? { maxPayload: Number(o['max-payload']) } : {})
ws.on('open', () => {
  if (o.ping) ws.ping()
  if (!o['no-req']) ws.send(JSON.stringify(['REQ', 'probe', {}]))
})
ws.on('pong', () => (r.pong = true))
ws.on('error', e => (r.error = e.message))
ws.on('close', code => {
  r.close_code = code
  finish()
})
ws.on('message', (data, isBinary) => {
  if (isBinary) return r.binary++
  r.text++
  let m
  try {
    m = JSON.parse(data.toString())
  } catch {
    return
  }
  if (!Array.isArray(m)) return
  if (m[0] === 'NOTICE') r.notices++
  if (m[0] === 'AUTH') r.auth++
  if (m[0] === 'EVENT' && m[1] === 'probe') {
    let ok = false
    try {
      ok = nt.verifyEvent({ ...m[2] })
    } catch {}
    if (ok) r.valid.push(m[2].id)
    else r.invalid_events++
  }
  if (m[0] === 'EOSE' && m[1] === 'probe') {
    r.eose = true
    setTimeout(() => {
      ws.terminate()
      finish()
    }, Number(o['after-eose-ms']))
  }
})
