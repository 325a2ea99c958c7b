#!/usr/bin/env node
// Checks events written by another implementation (Proton Beam's JSON writer) with nostr-tools.
//
// Usage: node verify_events.mjs <events.jsonl> [<originals.jsonl>]
// Every line of <events.jsonl> must be valid UTF-8 and JSON, pass validateEvent and verifyEvent, and
// have getEventHash(ev) === ev.id. With <originals.jsonl> (the same number of lines, line i being the
// input line event i was read from), each event's seven NIP-01 fields must also deep-equal those of
// its original, and the line must be byte-identical to JSON.stringify of those fields in NIP-01 order
// (the compact form NIP-01 and nostr-tools produce). Prints a JSON summary; exits 1 on any failure.

import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { getEventHash, validateEvent, verifyEvent } from 'nostr-tools/pure'

const [file, originalsFile] = process.argv.slice(2)
if (!file) {
  console.error('usage: node verify_events.mjs <events.jsonl> [<originals.jsonl>]')
  process.exit(2)
}

const FIELDS = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']
const pick = ev => Object.fromEntries(FIELDS.filter(f => f in ev).map(f => [f, ev[f]]))

function splitLines(buf) {
  const out = []
  let start = 0
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start)
    if (end < 0) end = buf.length
    out.push(buf.subarray(start, end))
    start = end + 1
  }
  return out
}

const strict = new TextDecoder('utf-8', { fatal: true })
const lossy = new TextDecoder('utf-8') // originals were judged by nostr-tools after this decoding
const lines = splitLines(readFileSync(file))
const originals = originalsFile ? splitLines(readFileSync(originalsFile)) : null

const summary = { lines: lines.length, verified: 0, id_ok: 0, equal_original: 0, byte_identical: 0, failures: [] }
const fail = (i, why) => summary.failures.length < 50 && summary.failures.push(`line ${i + 1}: ${why}`)

if (originals && originals.length !== lines.length)
  fail(-1, `${lines.length} events but ${originals.length} original lines`)

lines.forEach((bytes, i) => {
  let text, ev
  try {
    text = strict.decode(bytes)
    ev = JSON.parse(text)
  } catch (e) {
    return fail(i, `not UTF-8 JSON: ${e.message}`)
  }
  if (validateEvent(ev) && verifyEvent(ev)) summary.verified++
  else fail(i, `verifyEvent failed for id ${ev.id}`)
  let hash = null
  try {
    hash = getEventHash(ev)
  } catch {}
  if (hash === ev.id) summary.id_ok++
  else fail(i, `getEventHash ${hash} !== id ${ev.id}`)
  if (!originals) return
  const compact = JSON.stringify(pick(ev))
  if (compact === text) summary.byte_identical++
  else fail(i, `not byte-identical to JSON.stringify: ${text.slice(0, 120)} vs ${compact.slice(0, 120)}`)
  let original
  try {
    original = JSON.parse(lossy.decode(originals[i]))
  } catch (e) {
    return fail(i, `original is not JSON: ${e.message}`)
  }
  // Compared as JSON values: isDeepStrictEqual alone tells 0 from -0 (an input may say "created_at":-0).
  const asJson = ev => JSON.parse(JSON.stringify(pick(ev)))
  if (isDeepStrictEqual(asJson(ev), asJson(original)) && Object.keys(ev).length === FIELDS.length)
    summary.equal_original++
  else fail(i, `fields differ from the original: ${text.slice(0, 120)}`)
})

console.log(JSON.stringify(summary))
const expected = originals ? ['verified', 'id_ok', 'equal_original', 'byte_identical'] : ['verified', 'id_ok']
process.exit(summary.failures.length === 0 && expected.every(k => summary[k] === lines.length) ? 0 : 1)
