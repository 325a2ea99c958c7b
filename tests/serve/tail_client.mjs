#!/usr/bin/env node
// Live tail: subscribes (nostr-tools Relay) with --filter, waits for EOSE, writes --eose-file, then collects
// live events until it has --expect of them (or --timeout-ms passes), and prints
// `snapshot=N live=M dup=D` plus the live ids (one per line) to --out. Exit 1 on a timeout.
import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import { require, WebSocket } from '../relay/lib.mjs'

const { Relay, useWebSocketImplementation } = require('nostr-tools/relay')
useWebSocketImplementation(WebSocket)
const { values: o } = parseArgs({ options: { port: { type: 'string' }, filter: { type: 'string', default: '{}' },
  'eose-file': { type: 'string' }, expect: { type: 'string' }, out: { type: 'string' },
  'timeout-ms': { type: 'string', default: '120000' } } })
const relay = await Relay.connect(`ws://127.0.0.1:${o.port}/`)
const snapshot = [], live = []
let eose = false
const done = new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`timeout: ${live.length} of ${o.expect} live events`)), Number(o['timeout-ms']))
  relay.subscribe([JSON.parse(o.filter)], {
    onevent: ev => {
      (eose ? live : snapshot).push(ev.id)
      if (eose && live.length >= Number(o.expect)) { clearTimeout(t); resolve() }
    },
    oneose: () => { eose = true; writeFileSync(o['eose-file'], 'eose\n'); if (Number(o.expect) === 0) { clearTimeout(t); resolve() } },
  })
})
try { await done } catch (e) { console.error(e.message); process.exit(1) }
const all = snapshot.concat(live)
const dup = all.length - new Set(all).size
writeFileSync(o.out, live.join('\n') + '\n')
console.log(`snapshot=${snapshot.length} live=${live.length} dup=${dup}`)
relay.close()
process.exit(0)
