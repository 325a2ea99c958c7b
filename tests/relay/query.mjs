#!/usr/bin/env node
// Asks a relay what it holds: sends one REQ, prints every EVENT before EOSE as one JSONL line (the event
// object re-serialized with JSON.stringify), then closes. A raw `ws` client: nothing is filtered or verified.
//
// Usage: node query.mjs URL [FILTER_JSON] [--count] [--auth-seed S] [--ca cert.pem] [--insecure]
//                       [--retries N] [--live N --eose-file F] [--timeout-ms 20000] [--sub ID]
//   FILTER_JSON   one filter object or an array of filters; default '{}'
//   --count       print only the number of events
//   --auth-seed S answer the relay's NIP-42 AUTH challenge with a kind-22242 event signed by key 0 of seed S
//                 before the REQ (needed for relay.mjs --auth-required); --auth-relay-tag URL signs another
//                 relay URL into the event (to check that the relay refuses it)
//   --retries N   on ["CLOSED", sub, reason] resend the REQ on the same connection, up to N times (reasons
//                 go to stderr as "CLOSED: ..."); e.g. for relay.mjs --rate-limit-first-req
//   --live N      after EOSE keep the subscription open until N more events arrived (printed likewise);
//                 --eose-file F is created at EOSE, so a script knows when to publish them
//   --sub ID      the subscription id (default q<pid>)
// Exit status: 0 after EOSE; 1 on CLOSED (reason on stderr), a connection error, or no EOSE within the
// timeout (a safety bound, not a test timing).

import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { keyFor, signEvent, webSocketClass } from './lib.mjs'

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    count: { type: 'boolean', default: false },
    'auth-seed': { type: 'string' },
    ca: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '20000' },
    'auth-relay-tag': { type: 'string' },
    retries: { type: 'string', default: '0' },
    live: { type: 'string', default: '0' },
    'eose-file': { type: 'string' },
    sub: { type: 'string' },
  },
})
const [url, filterText = '{}'] = positionals
if (!url) {
  console.error('usage: node query.mjs URL [FILTER_JSON] [--count] [--auth-seed S] [--ca F] [--insecure]')
  process.exit(2)
}
const parsed = JSON.parse(filterText)
const filters = Array.isArray(parsed) ? parsed : [parsed]
const die = why => {
  console.error(`query.mjs: ${why}`)
  process.exit(1)
}
setTimeout(() => die(`no EOSE from ${url} within ${opts['timeout-ms']} ms`), Number(opts['timeout-ms'])).unref()

process.stdout.on('error', e => process.exit(e.code === 'EPIPE' ? 0 : 1)) // e.g. `| head`
const WS = webSocketClass(opts)
const ws = new WS(url)
const sub = opts.sub ?? 'q' + process.pid
const events = []
let authId = null
let retries = Number(opts.retries)
let live = Number(opts.live)
let eosed = false
const req = () => ws.send(JSON.stringify(['REQ', sub, ...filters]))

ws.on('open', () => {
  if (!opts['auth-seed']) req()
})
ws.on('error', e => die(`${url}: ${e.message}`))
ws.on('message', data => {
  let m
  try {
    m = JSON.parse(data.toString())
  } catch {
    return
  }
  if (!Array.isArray(m)) return
  if (m[0] === 'EVENT' && m[1] === sub && eosed) {
    process.stdout.write(JSON.stringify(m[2]) + '\n') // (also with --count)
    if (--live > 0) return
    ws.close()
    ws.once('close', () => process.exit(0))
    return setImmediate(() => ws.terminate())
  }
  if (m[0] === 'AUTH' && opts['auth-seed'] && authId === null) {
    const ev = signEvent(
      { kind: 22242, created_at: Math.floor(Date.now() / 1000), tags: [['relay', opts['auth-relay-tag'] ?? url], ['challenge', m[1]]] },
      keyFor(opts['auth-seed'], 0),
    )
    authId = ev.id
    ws.send(JSON.stringify(['AUTH', ev]))
  } else if (m[0] === 'OK' && authId !== null && m[1] === authId) {
    if (m[2] !== true) die(`AUTH rejected: ${m[3]}`)
    req()
  } else if (m[0] === 'EVENT' && m[1] === sub) {
    events.push(m[2])
  } else if (m[0] === 'CLOSED' && m[1] === sub) {
    if (retries-- <= 0) die(`CLOSED: ${m[2]}`)
    console.error(`CLOSED: ${m[2]}`)
    req()
  } else if (m[0] === 'EOSE' && m[1] === sub) {
    process.stdout.write(opts.count ? `${events.length}\n` : events.map(e => JSON.stringify(e) + '\n').join(''))
    if (opts['eose-file']) writeFileSync(opts['eose-file'], '')
    if (live > 0) {
      eosed = true
      return
    }
    ws.close()
    process.exitCode = 0
    ws.once('close', () => process.exit(0))
    setImmediate(() => ws.terminate())
  }
})
