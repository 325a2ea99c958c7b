#!/usr/bin/env node
// A real Nostr relay for integration tests: @nostr-relay/core (+ validator) over ws, events kept in memory
// (optionally in a JSONL file, so a restarted relay keeps them). Loopback only.
//
// Usage: node relay.mjs [--port 0] [--host 127.0.0.1] [--ready-file F] [--tls-cert C --tls-key K]
//          [--store FILE.jsonl] [--max-limit N] [--auth-required] [--rate-limit-first-req]
//          [--ignore-until] [--until-delay-ms MS [--until-delay-from K]]
//          [--nip11 TEXT | --no-nip11] [--permessage-deflate] [--watch-pid PID] [--quiet]
//   --port 0            any free port; the bound port is written to --ready-file once listening and printed
//                       as "READY port=N url=ws://127.0.0.1:N" on stdout
//   --store FILE        JSONL file: loaded at start (replaying upserts), every accepted event appended
//   --max-limit N       at most N events per filter before EOSE (newest first; clients page with `until`)
//   --auth-required     NIP-42: ["AUTH", challenge] on connect; every REQ gets
//                       ["CLOSED", sub, "auth-required: ..."] until a valid kind-22242 AUTH event (signature,
//                       `challenge` tag, `relay` tag naming this relay's host and port) was sent. EVENTs are
//                       accepted without AUTH (so tests can seed the relay).
//   --rate-limit-first-req  the first REQ of each connection gets ["CLOSED", sub, "rate-limited: slow down"]
//   --ignore-until      a broken relay for paging clients: `until` in filters is ignored (each page repeats)
//   --until-delay-ms MS  a REQ with `until` in a filter (a paging client's next page) is answered MS ms late,
//                       from the K-th such REQ this process receives on (--until-delay-from K, default 1): a
//                       test can hold a paging client mid-history deterministically (a huge MS from K = 3:
//                       the first two pages come at once, the third never does)
//   --nip11 TEXT        the NIP-11 document, sent verbatim (hostile ones too) instead of the default one (name,
//                       software, supported_nips, limitation.auth_required and, with --max-limit, max_limit)
//   --no-nip11          NIP-11 requests get 404 (a relay without a document)
// Stdout: one line per client message: "RECV c=<conn> <type> <json>" (EVENTs: just the id), plus
// "NIP11 GET <target> host=<Host header>" per NIP-11 request, "CONNECT c=N", "DISCONNECT c=N",
// "AUTH c=N ok <pubkey>" / "AUTH c=N fail <reason>".
// NIP-01 semantics: replaceable (0, 3, 10000-19999) and addressable (30000-39999) events keep the newest,
// ephemeral (20000-29999) are only broadcast; results are newest first, `limit` per filter; live events
// after EOSE. No NIP-09 deletion, no COUNT, no search. Filter-result and event-result caches are off.

import { randomUUID } from 'node:crypto'
import { appendFileSync, existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { SERVER_OPTIONS, clip, frameText, listen, log, matchFilter, nt, pick, readJsonl, require, sleep } from './lib.mjs'

const { NostrRelay } = require('@nostr-relay/core')
const { EventRepository } = require('@nostr-relay/common')
const { Validator } = require('@nostr-relay/validator')

const { values: opts } = parseArgs({
  options: {
    ...SERVER_OPTIONS,
    store: { type: 'string' },
    'max-limit': { type: 'string' },
    'auth-required': { type: 'boolean', default: false },
    'rate-limit-first-req': { type: 'boolean', default: false },
    'ignore-until': { type: 'boolean', default: false },
    'until-delay-ms': { type: 'string', default: '0' },
    'until-delay-from': { type: 'string', default: '1' },
    nip11: { type: 'string' },
    'no-nip11': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
})
const maxLimit = opts['max-limit'] ? Number(opts['max-limit']) : Infinity
const untilDelayMs = Number(opts['until-delay-ms'])
const untilDelayFrom = Number(opts['until-delay-from'])
let untilReqs = 0
const say = opts.quiet ? () => {} : log

const isReplaceable = k => k === 0 || k === 3 || (k >= 10000 && k < 20000)
const isAddressable = k => k >= 30000 && k < 40000
const newestFirst = (a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

class MemoryRepository extends EventRepository {
  constructor(storeFile) {
    super()
    this.byId = new Map()
    this.byAddress = new Map() // "kind:pubkey[:d]" -> event, for replaceable/addressable events
    this.storeFile = storeFile
    if (storeFile && existsSync(storeFile)) for (const ev of readJsonl(storeFile)) this.insert(ev)
  }
  isSearchSupported() {
    return false
  }
  insert(event) {
    if (this.byId.has(event.id)) return false
    let address = null
    if (isReplaceable(event.kind)) address = `${event.kind}:${event.pubkey}`
    else if (isAddressable(event.kind))
      address = `${event.kind}:${event.pubkey}:${(event.tags.find(t => t[0] === 'd') || [])[1] ?? ''}`
    if (address) {
      const old = this.byAddress.get(address)
      if (old && newestFirst(old, event) <= 0) return false // the stored one is newer (or wins the id tie)
      if (old) this.byId.delete(old.id)
      this.byAddress.set(address, event)
    }
    this.byId.set(event.id, event)
    return true
  }
  upsert(event) {
    event = pick(event)
    const added = this.insert(event)
    if (added && this.storeFile) appendFileSync(this.storeFile, JSON.stringify(event) + '\n')
    return { isDuplicate: !added }
  }
  find(filter) {
    if (opts['ignore-until']) filter = { ...filter, until: undefined }
    const limit = Math.min(filter.limit ?? Infinity, maxLimit)
    if (limit <= 0) return []
    const pool = filter.ids ? filter.ids.map(id => this.byId.get(id)).filter(Boolean) : this.byId.values()
    const hits = []
    for (const ev of pool) if (matchFilter(filter, ev)) hits.push(ev)
    hits.sort(newestFirst)
    return hits.slice(0, limit)
  }
  async destroy() {}
}

const repo = new MemoryRepository(opts.store)
const relay = new NostrRelay(repo, {
  logLevel: 3, // ERROR
  eventHandlingResultCacheTtl: 0, // otherwise a resent id gets the cached verdict for 10 min
  filterResultCacheTtl: 0, // otherwise a REQ within 1 s of an identical one misses new events
  maxSubscriptionsPerClient: 200,
})
// Roomier than the defaults (20 kinds, 1000 authors/ids per filter, 100 kB content), for daemon-style REQs.
const validator = new Validator({
  maxContentLength: 1024 * 1024,
  maxFilterKindsLength: 200,
  maxFilterAuthorsLength: 10000,
  maxFilterIdsLength: 10000,
  maxFilterGenericTagsLength: 10000,
})

const defaultInfo = {
  name: 'proton-beam test relay',
  software: '@nostr-relay/core (tests/relay/relay.mjs)',
  supported_nips: [1, 11, ...(opts['auth-required'] ? [42] : [])],
  limitation: { auth_required: opts['auth-required'], ...(maxLimit < Infinity ? { max_limit: maxLimit } : {}) },
}
const { wss, port } = await listen(opts, { info: opts['no-nip11'] ? null : opts.nip11 ?? defaultInfo })
const ownHosts = new Set([opts.host, '127.0.0.1', 'localhost', '[::1]'])

// NIP-42 check of a kind-22242 event; returns an error text or null.
function authError(ev, challenge) {
  if (!ev || typeof ev !== 'object') return 'invalid: not an event'
  if (ev.kind !== 22242) return 'invalid: kind must be 22242'
  if (!nt.verifyEvent({ ...ev })) return 'invalid: bad id or signature'
  const tag = name => (ev.tags.find(t => t[0] === name) || [])[1]
  if (tag('challenge') !== challenge) return 'invalid: wrong challenge'
  let u
  try {
    u = new URL(tag('relay'))
  } catch {
    return 'invalid: missing or malformed relay tag'
  }
  if (!['ws:', 'wss:'].includes(u.protocol) || !ownHosts.has(u.hostname) || Number(u.port) !== port)
    return `invalid: relay tag ${tag('relay')} does not name this relay`
  return null
}

let nextConn = 1
wss.on('connection', (ws, req) => {
  const c = nextConn++
  const conn = { challenge: randomUUID(), pubkey: null, reqs: 0, queue: Promise.resolve() }
  const send = m => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m))
  say(`CONNECT c=${c}`)
  relay.handleConnection(ws, req.socket.remoteAddress)
  if (opts['auth-required']) send(['AUTH', conn.challenge])

  async function handle(data) {
    const text = frameText(data)
    let msg
    try {
      msg = await validator.validateIncomingMessage(data)
    } catch (e) {
      say(`RECV c=${c} INVALID ${clip(text, 200)}`)
      return send(['NOTICE', e.message])
    }
    const type = msg[0]
    say(`RECV c=${c} ${type} ${type === 'EVENT' ? msg[1].id : clip(text, 2000)}`)
    if (type === 'AUTH') {
      const err = authError(msg[1], conn.challenge)
      if (err) {
        say(`AUTH c=${c} fail ${err}`)
        return send(['OK', msg[1]?.id ?? '', false, err])
      }
      conn.pubkey = msg[1].pubkey
      say(`AUTH c=${c} ok ${conn.pubkey}`)
      return send(['OK', msg[1].id, true, ''])
    }
    if (type === 'REQ') {
      conn.reqs++
      if (opts['rate-limit-first-req'] && conn.reqs === 1)
        return send(['CLOSED', msg[1], 'rate-limited: slow down'])
      if (opts['auth-required'] && !conn.pubkey)
        return send(['CLOSED', msg[1], 'auth-required: this relay only serves authenticated clients'])
      if (msg.slice(2).some(f => f.until !== undefined) && ++untilReqs >= untilDelayFrom && untilDelayMs > 0)
        await sleep(untilDelayMs)
    }
    await relay.handleMessage(ws, msg)
  }
  // Messages of one connection are handled strictly in order (an EVENT is stored before a later REQ runs).
  ws.on('message', data => {
    conn.queue = conn.queue.then(() => handle(data)).catch(e => send(['NOTICE', `error: ${e.message}`]))
  })
  ws.on('close', () => {
    say(`DISCONNECT c=${c}`)
    relay.handleDisconnect(ws)
  })
  ws.on('error', () => {})
})
