#!/usr/bin/env node
// A client that stops reading (socket paused) after asking for far more than --max-output-bytes, while a
// second client keeps querying: the second gets all its EOSEs while the first is stalled, and the server
// then drops the first (it sees its connection closed once it reads again).
import { parseArgs } from 'node:util'
import { WebSocket } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: { port: { type: 'string' } } })
const url = `ws://127.0.0.1:${o.port}/`
const open = () => new Promise((res, rej) => { const ws = new WebSocket(url, { perMessageDeflate: false }); ws.on('open', () => res(ws)); ws.on('error', rej) })

const slow = await open()
let slowClosed = false
slow.on('close', () => { slowClosed = true })
slow._socket.pause()  // read nothing more
for (let i = 0; i < 200; i++) slow.send(JSON.stringify(['REQ', 'big' + i, { limit: 5000 }]))

const fast = await open()
let eose = 0
for (let i = 0; i < 50; i++) {
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('fast client starved')), 30000)
    fast.on('message', function h(d) {
      const m = JSON.parse(d.toString())
      if (m[0] === 'EOSE' && m[1] === 'f' + i) { eose++; clearTimeout(t); fast.off('message', h); res() }
    })
    fast.send(JSON.stringify(['REQ', 'f' + i, { limit: 20 }]))
  })
}
slow._socket.resume()
await new Promise(res => { if (slowClosed) res(); else slow.on('close', res) })
console.log(`fast eose=${eose} slow closed=${slowClosed}`)
fast.close()
process.exit(eose === 50 && slowClosed ? 0 : 1)
