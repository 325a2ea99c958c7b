#!/usr/bin/env node
// --clients concurrent WebSocket connections, each sending --reqs REQs and waiting for each EOSE (or
// CLOSED). Without --expect-rate-limited every REQ must get EOSE; with it, some must get CLOSED rate-limited:.
import { parseArgs } from 'node:util'
import { WebSocket } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: { port: { type: 'string' }, clients: { type: 'string', default: '200' },
  reqs: { type: 'string', default: '1' }, 'expect-rate-limited': { type: 'boolean', default: false } } })
let eose = 0, limited = 0, events = 0
async function client(c) {
  const ws = new WebSocket(`ws://127.0.0.1:${o.port}/`)
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej) })
  for (let i = 0; i < Number(o.reqs); i++) {
    await new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('timeout')), 60000)
      ws.on('message', function h(d) {
        const m = JSON.parse(d.toString())
        if (m[1] !== `c${c}r${i}`) return
        if (m[0] === 'EVENT') { events++; return }
        if (m[0] === 'EOSE') eose++
        else if (m[0] === 'CLOSED' && m[2].startsWith('rate-limited:')) limited++
        clearTimeout(t); ws.off('message', h); res()
      })
      ws.send(JSON.stringify(['REQ', `c${c}r${i}`, { limit: 5 }]))
    })
  }
  ws.close()
}
await Promise.all(Array.from({ length: Number(o.clients) }, (_, c) => client(c)))
const total = Number(o.clients) * Number(o.reqs)
console.log(`clients=${o.clients} eose=${eose} rate_limited=${limited} events=${events}`)
if (o['expect-rate-limited']) process.exit(limited > 0 && limited < total && eose + limited === total ? 0 : 1)
process.exit(eose === total && events === total * 5 ? 0 : 1)
