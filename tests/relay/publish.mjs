#!/usr/bin/env node
// Publishes events to one or more relays with nostr-tools (Relay.connect / relay.publish over `ws`),
// each event to every relay, at most --concurrency publishes in flight per relay.
//
// Usage: node publish.mjs URL[,URL...] [URL...] (--generate N [--seed S] [--base-time T] [--authors K]
//                         [--relay-list URL,...] | --events FILE.jsonl) [--concurrency 40] [--out FILE.jsonl]
//                         [--ca cert.pem] [--insecure] [--allow-rejects]
//   --generate N     the deterministic corpus of sign_events.mjs (same options, same bytes)
//   --events FILE    pre-signed events, one JSON object per line
//   --out FILE       the events sent, as JSONL, in send order (so a test knows exactly what was sent)
//   wss with a self-signed cert: --ca cert.pem, or NODE_EXTRA_CA_CERTS=cert.pem (node reads it at start),
//   or --insecure (no verification).
// Prints a JSON summary on stdout: {"events":N,"relays":{"URL":{"ok":n,"rejected":n,"errors":["..."]}}}.
// Exit status 1 if any publish was rejected or failed (unless --allow-rejects), or a relay was unreachable.

import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateEvents, readJsonl, require, webSocketClass } from './lib.mjs'

const { Relay, useWebSocketImplementation } = require('nostr-tools/relay')

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    generate: { type: 'string' },
    seed: { type: 'string', default: 'seed' },
    'base-time': { type: 'string', default: '1700000000' },
    authors: { type: 'string', default: '5' },
    'relay-list': { type: 'string', default: '' },
    events: { type: 'string' },
    concurrency: { type: 'string', default: '40' },
    out: { type: 'string' },
    ca: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    'allow-rejects': { type: 'boolean', default: false },
  },
})
const urls = positionals.flatMap(p => p.split(',')).filter(Boolean)
if (!urls.length || (!o.generate && !o.events)) {
  console.error('usage: node publish.mjs URL[,URL...] (--generate N [--seed S] | --events FILE) [--out FILE]')
  process.exit(2)
}
useWebSocketImplementation(webSocketClass(o))

const events = o.events
  ? readJsonl(o.events)
  : generateEvents({
      count: Number(o.generate),
      seed: o.seed,
      baseTime: Number(o['base-time']),
      authors: Number(o.authors),
      relayList: o['relay-list'] ? o['relay-list'].split(',') : [],
    })
if (o.out) writeFileSync(o.out, events.map(e => JSON.stringify(e) + '\n').join(''))

async function publishAll(url) {
  const r = { ok: 0, rejected: 0, errors: [] }
  let relay
  try {
    relay = await Relay.connect(url)
  } catch (e) {
    r.errors.push(`connect: ${e.message ?? e}`)
    r.unreachable = true
    return r
  }
  relay.publishTimeout = 30000 // a safety bound only
  let next = 0
  const worker = async () => {
    while (next < events.length) {
      const ev = events[next++]
      try {
        await relay.publish({ ...ev })
        r.ok++
      } catch (e) {
        r.rejected++
        if (r.errors.length < 20) r.errors.push(`${ev.id}: ${e.message ?? e}`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Number(o.concurrency)) }, worker))
  relay.close()
  return r
}

const results = await Promise.all(urls.map(publishAll))
const summary = { events: events.length, relays: Object.fromEntries(urls.map((u, i) => [u, results[i]])) }
console.log(JSON.stringify(summary))
const bad = results.some(r => r.unreachable || (!o['allow-rejects'] && r.rejected))
process.exit(bad ? 1 : 0)
