// Shared helpers of the tests/relay peers (not a program). The npm packages live in tests/node/node_modules
// (installed by scripts/setup.sh), which ESM resolution from tests/relay would not search, so they are
// loaded through a require() rooted at tests/node.
//
//   listen(opts, {info, wsOptions})  http(s) + ws server on opts.host:opts.port (0 = any free port); when
//                                    listening writes the port to opts['ready-file'] (atomically, via
//                                    rename) and prints "READY port=N url=ws(s)://..." on stdout. info: the
//                                    NIP-11 document (an object, or a string sent verbatim; null: 404).
//   keyFor(seed, i)                  deterministic secret key i of a seed
//   signEvent(template, sk)          deterministic NIP-01 event (BIP-340 with zero aux randomness)
//   generateEvents({...})            the deterministic corpus of sign_events.mjs / publish.mjs --generate
//   readJsonl(file)                  the non-empty lines of a JSONL file, parsed

import { createHash } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const NODE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'node')
export const require = createRequire(join(NODE_DIR, 'package.json'))
export const WebSocket = require('ws')
export const { WebSocketServer } = WebSocket
export const nt = require('nostr-tools/pure')
export const { matchFilter } = require('nostr-tools/filter')
const { schnorr } = await import(pathToFileURL(require.resolve('@noble/curves/secp256k1.js')).href)

// Options every server peer accepts (merge into the util.parseArgs spec).
export const SERVER_OPTIONS = {
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'ready-file': { type: 'string' },
  'watch-pid': { type: 'string' }, // exit when this process is gone (the test shell: no orphans on SIGKILL)
  'permessage-deflate': { type: 'boolean', default: false },
}

export const sleep = ms => new Promise(r => setTimeout(r, ms))
export const log = line => process.stdout.write(line + '\n')
export const clip = (s, n = 400) => (s.length > n ? s.slice(0, n) + `...(${s.length} chars)` : s)

export async function listen(opts, { info = {}, wsOptions = {} } = {}) {
  const tls = !!opts['tls-cert']
  // NIP-11: GET with "Accept: application/nostr+json" returns the relay information document.
  const onHttp = (req, res) => {
    const nip11 = (req.headers.accept || '').includes('application/nostr+json')
    if (nip11) log(`NIP11 ${req.method} ${req.url} host=${req.headers.host}`)
    const status = !nip11 ? 426 : info === null ? 404 : 200
    res.writeHead(status, {
      'content-type': status === 200 ? 'application/nostr+json' : 'text/plain',
      'access-control-allow-origin': '*',
    })
    res.end(status !== 200 ? 'websocket only\n' : typeof info === 'string' ? info : JSON.stringify(info))
  }
  const server = tls
    ? createHttpsServer({ cert: readFileSync(opts['tls-cert']), key: readFileSync(opts['tls-key']) }, onHttp)
    : createHttpServer(onHttp)
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: opts['permessage-deflate'],
    maxPayload: 256 * 1024 * 1024,
    ...wsOptions,
  })
  const want = Number(opts.port)
  // A fixed port (relay_restart) may still be held for a moment by the previous process: retry, bounded.
  for (let attempt = 0; ; attempt++) {
    try {
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(want, opts.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      break
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || want === 0 || attempt >= 100) throw e
      await sleep(100)
    }
  }
  const port = server.address().port
  const url = `${tls ? 'wss' : 'ws'}://${opts.host}:${port}`
  if (opts['ready-file']) {
    writeFileSync(opts['ready-file'] + '.tmp', `${port}\n`)
    renameSync(opts['ready-file'] + '.tmp', opts['ready-file'])
  }
  const stop = () => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    server.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  if (opts['watch-pid']) {
    const pid = Number(opts['watch-pid'])
    setInterval(() => {
      try {
        process.kill(pid, 0)
      } catch {
        stop()
      }
    }, 1000).unref()
  }
  log(`READY port=${port} url=${url}`)
  return { server, wss, port, url }
}

// Frames as text for logging (a client may send binary frames too).
export const frameText = data =>
  Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8')

const sha256 = s => new Uint8Array(createHash('sha256').update(s).digest())
const hex = b => Buffer.from(b).toString('hex')
const FIELDS = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']
export const pick = ev => Object.fromEntries(FIELDS.filter(f => f in ev).map(f => [f, ev[f]]))

export const keyFor = (seed, i = 0) => sha256(`proton-beam test relay key ${seed}/${i}`)
export const pubkeyOf = sk => nt.getPublicKey(sk)

const pubkeyCache = new Map()
export function signEvent({ kind = 1, created_at = 1700000000, tags = [], content = '' }, sk) {
  const skHex = hex(sk)
  if (!pubkeyCache.has(skHex)) pubkeyCache.set(skHex, nt.getPublicKey(sk))
  const ev = { pubkey: pubkeyCache.get(skHex), created_at, kind, tags, content }
  ev.id = nt.getEventHash(ev)
  ev.sig = hex(schnorr.sign(Buffer.from(ev.id, 'hex'), sk, new Uint8Array(32)))
  return pick(ev)
}

// count events from `authors` keys of `seed`: first one kind-10002 relay list per author when relayList
// is non-empty, then kind-1 notes with varied tags (t, e and p with relay hints from relayList, subject,
// a long tag list now and then). created_at = baseTime + i, so since/until windows are predictable (with
// perSecond = K: baseTime + floor(i / K), K events sharing each second).
export function generateEvents({ count, seed = 'seed', baseTime = 1700000000, authors = 5, relayList = [], perSecond = 1 }) {
  const keys = Array.from({ length: authors }, (_, i) => keyFor(seed, i))
  const pks = keys.map(pubkeyOf)
  const out = []
  let n = 0
  const at = () => baseTime + Math.floor(n++ / perSecond)
  if (relayList.length) {
    for (let a = 0; a < authors && out.length < count; a++)
      out.push(
        signEvent(
          {
            kind: 10002,
            created_at: at(),
            tags: relayList.map((u, j) => (j % 3 === 1 ? ['r', u, 'read'] : j % 3 === 2 ? ['r', u, 'write'] : ['r', u])),
          },
          keys[a],
        ),
      )
  }
  const hint = j => (relayList.length ? relayList[j % relayList.length] : '')
  for (let i = 0; out.length < count; i++) {
    const a = i % authors
    const tags = [['t', `topic${i % 7}`]]
    if (i % 3 === 1 && out.length) tags.push(['e', out[out.length - 1].id, hint(i), 'reply'])
    if (i % 4 === 2) tags.push(['p', pks[(a + 1) % authors], hint(i + 1)])
    if (i % 5 === 3) tags.push(['subject', `subject ${i}`])
    if (i % 50 === 49) for (let j = 0; j < 40; j++) tags.push(['t', `many${j}`])
    const content = `note ${i} of seed ${seed}` + (i % 10 === 9 ? ' ünïcödé ✓ "quoted"\n\tline two \\ 🎉' : '')
    out.push(signEvent({ kind: 1, created_at: at(), tags, content }, keys[a]))
  }
  return out
}

export function readJsonl(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(l => l.trim() !== '')
    .map(l => JSON.parse(l))
}

// A ws WebSocket class for nostr-tools' useWebSocketImplementation that trusts an extra CA file
// (or none at all with insecure); otherwise NODE_EXTRA_CA_CERTS=cert.pem works for node too.
export function webSocketClass({ ca, insecure } = {}) {
  if (!ca && !insecure) return WebSocket
  const extra = { ...(ca ? { ca: readFileSync(ca) } : {}), ...(insecure ? { rejectUnauthorized: false } : {}) }
  return class extends WebSocket {
    constructor(url, protocols, options) {
      if (protocols && typeof protocols === 'object' && !Array.isArray(protocols)) [protocols, options] = [[], protocols]
      super(url, protocols, { ...extra, ...(options || {}) })
    }
  }
}
