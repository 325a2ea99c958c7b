#!/usr/bin/env node
// Idle relays for bench/bench_daemon.sh: ONE ws server whose every URL path is a relay of its own to the
// daemon (src/net/relay_url keeps the path, so ws://127.0.0.1:P/idle/1 and /idle/2 are two relays). A REQ
// is answered with EOSE and nothing else; the connection then stays open and silent (pings are answered
// by ws itself). Stdout: "READY port=N ...", then "REQS n=N open=M" each time the count of REQs reaches a
// multiple of --report-every (default 100) and once per second while it changes.
//
// Usage: node idle_relays.mjs [--port 0] [--host 127.0.0.1] [--ready-file F] [--watch-pid PID]
//          [--report-every 100]

import { parseArgs } from 'node:util'
import { SERVER_OPTIONS, frameText, listen, log } from '../tests/relay/lib.mjs'

const { values: o } = parseArgs({
  options: { ...SERVER_OPTIONS, 'report-every': { type: 'string', default: '100' } },
})
const every = Number(o['report-every'])
const { wss } = await listen(o)

let reqs = 0
let reported = -1
const report = () => {
  if (reqs !== reported) log(`REQS n=${reqs} open=${wss.clients.size}`)
  reported = reqs
}
setInterval(report, 1000).unref()

wss.on('connection', ws => {
  ws.on('message', data => {
    let m
    try {
      m = JSON.parse(frameText(data))
    } catch {
      return
    }
    if (!Array.isArray(m) || m[0] !== 'REQ' || typeof m[1] !== 'string') return
    ws.send(JSON.stringify(['EOSE', m[1]]))
    if (++reqs % every === 0) report()
  })
  ws.on('error', () => {})
})
