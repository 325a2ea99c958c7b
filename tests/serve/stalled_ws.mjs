#!/usr/bin/env node
// A WebSocket client without permessage-deflate that asks for a burst of events and stops reading
// (tests/serve/test_slow_reader.sh: serve is stopped while it is stalled). It writes --ready once its
// requests are sent, waits for the --go file, then reads again and reports how the connection ended:
// `events=N close=CODE` (CODE 1006: closed without a close frame).
import { existsSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { WebSocket } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: { port: { type: 'string' }, reqs: { type: 'string', default: '20' }, ready: { type: 'string' }, go: { type: 'string' } } })
const ws = new WebSocket(`ws://127.0.0.1:${o.port}/`, { perMessageDeflate: false })
await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej) })
let events = 0
ws.on('message', d => { if (d.toString().startsWith('["EVENT"')) events++ })
ws.on('error', () => {})
const closed = new Promise(res => ws.on('close', code => res(code)))
ws._socket.pause()  // read nothing more
for (let i = 0; i < Number(o.reqs); i++) ws.send(JSON.stringify(['REQ', 'burst' + i, { limit: 5000 }]))
writeFileSync(o.ready, 'stalled\n')
while (!existsSync(o.go)) await new Promise(res => setTimeout(res, 50))
ws._socket.resume()
const code = await closed
console.log(`events=${events} close=${code}`)
process.exit(0)
