#!/usr/bin/env node
// Cross-implementation corpus: signed Nostr events with tricky content, mutated variants, and JSON
// texts written with unusual escapes, each paired with nostr-tools' own verdict on the exact line.
//
// Usage: node gen_events.mjs <outdir>
// Writes <outdir>/events.jsonl (one event text per line, raw bytes, '\n'-separated, no raw newline
// inside a line) and <outdir>/verdicts.jsonl (one verdict per line, same order):
//   {"name", "json", "validate", "verify", "id_ok", "hash", "accepted"}
// where accepted = validateEvent(ev) && verifyEvent(ev), id_ok = getEventHash(ev) === ev.id and hash is
// getEventHash(ev) (null when nostr-tools refuses to serialize the event). The verdict is computed from
// the bytes of the line itself (decoded the way Node decodes text files, then JSON.parse), never from
// the object the line was made from. Prints a JSON summary on stdout; exits non-zero on any error.
//
// Used by tests/unit/nostr_tools_crosscheck_test.cpp. Keys are derived from fixed labels (plus one
// from generateSecretKey), so everything but the signatures (BIP-340 aux randomness) is reproducible.

import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  finalizeEvent,
  generateSecretKey,
  getEventHash,
  getPublicKey,
  validateEvent,
  verifyEvent,
} from 'nostr-tools/pure'
// Only for the one event whose canonical form JavaScript numbers cannot express (created_at above
// 2^53): nostr-tools' own signer, used directly on a hand-built canonical serialization.
import { schnorr } from '@noble/curves/secp256k1.js'

const outdir = process.argv[2]
if (!outdir) {
  console.error('usage: node gen_events.mjs <outdir>')
  process.exit(2)
}
mkdirSync(outdir, { recursive: true })

const sha256 = data => new Uint8Array(createHash('sha256').update(data).digest())
const hex = bytes => Buffer.from(bytes).toString('hex')
const keyFromLabel = label => sha256('proton-beam nostr-tools crosscheck key: ' + label)

const keyA = keyFromLabel('A')
const keyB = keyFromLabel('B')
const keyRandom = generateSecretKey()
const pkA = getPublicKey(keyA)
const pkB = getPublicKey(keyB)

// ---------------------------------------------------------------------------------------------------
// Building blocks

const FIELDS = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']
const pick = ev => Object.fromEntries(FIELDS.filter(f => f in ev).map(f => [f, ev[f]]))

function sign(template, key = keyA) {
  const ev = finalizeEvent(
    {
      kind: template.kind ?? 1,
      created_at: template.created_at ?? 1700000000,
      tags: template.tags ?? [],
      content: template.content ?? '',
    },
    key,
  )
  return pick(ev) // a plain object: no cached verifiedSymbol travels with it
}

// The standard text: JSON.stringify, fields in NIP-01 order.
const std = ev => JSON.stringify(pick(ev))

// An alternative JSON writer that escapes as much as JSON allows: every code unit outside printable
// ASCII as \uXXXX (so non-BMP characters become surrogate-pair escapes), '/' as '\/', and control
// characters in the long \u00XX form even where a short escape exists. `upper` selects the hex case.
function escapeAllString(s, upper) {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c === 0x2f) out += '\\/'
    else if (c < 0x20 || c > 0x7e) {
      const h = c.toString(16).padStart(4, '0')
      out += '\\u' + (upper ? h.toUpperCase() : h)
    } else out += s[i]
  }
  return out + '"'
}
function escapeAll(ev, upper) {
  const str = s => escapeAllString(s, upper)
  const tags = '[' + ev.tags.map(t => '[' + t.map(str).join(',') + ']').join(',') + ']'
  return (
    `{"id":${str(ev.id)},"pubkey":${str(ev.pubkey)},"created_at":${ev.created_at},` +
    `"kind":${ev.kind},"tags":${tags},"content":${str(ev.content)},"sig":${str(ev.sig)}}`
  )
}

function replaceOnce(text, from, to) {
  const at = text.indexOf(from)
  if (at < 0 || text.indexOf(from, at + from.length) >= 0)
    throw new Error(`replaceOnce: ${JSON.stringify(from)} must occur exactly once in ${text.slice(0, 200)}`)
  return text.slice(0, at) + to + text.slice(at + from.length)
}

// The std text of `ev` with the content's JSON string body replaced by raw bytes (for byte-level
// cases that no JS string can produce: invalid UTF-8, unescaped control characters).
function withRawContent(ev, rawBytes) {
  const marker = 'RAW-BYTES-MARKER'
  const text = std({ ...ev, content: marker })
  const [pre, post] = text.split(marker)
  return Buffer.concat([Buffer.from(pre, 'utf8'), Buffer.from(rawBytes), Buffer.from(post, 'utf8')])
}

// ---------------------------------------------------------------------------------------------------
// The oracle: nostr-tools' verdict on one line's bytes.

const lossyDecoder = new TextDecoder('utf-8') // what fs.readFileSync(..., 'utf8') and readline do

function oracle(bytes) {
  const verdict = { json: false, validate: false, verify: false, id_ok: false, hash: null, accepted: false }
  let ev
  try {
    ev = JSON.parse(lossyDecoder.decode(bytes))
    verdict.json = true
  } catch {
    return verdict
  }
  try {
    verdict.validate = validateEvent(ev) === true
  } catch {}
  try {
    verdict.hash = getEventHash(ev)
    verdict.id_ok = verdict.hash === ev.id
  } catch {}
  try {
    verdict.verify = verifyEvent(ev) === true
  } catch {} // verifyEvent itself throws on primitives (it stores a symbol on the event)
  verdict.accepted = verdict.validate && verdict.verify
  return verdict
}

// ---------------------------------------------------------------------------------------------------
// The corpus

const lines = [] // { name, bytes }
const names = new Set()
function add(name, text) {
  if (names.has(name)) throw new Error('duplicate case name ' + name)
  names.add(name)
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  if (bytes.includes(0x0a)) throw new Error(`case ${name} has a raw newline`)
  lines.push({ name, bytes })
}

// 1. Valid events with tricky content, tags, kinds and timestamps. Each is written three ways: the
//    standard text, and the escape-everything text with lower- and upper-case hex escapes.
const valid = [] // [name, event]
const ok = (name, template, key) => valid.push([name, sign(template, key)])

for (let c = 0; c < 0x20; c++) {
  const ch = String.fromCharCode(c)
  const h = c.toString(16).padStart(2, '0')
  ok(`c0_${h}`, { content: `a${ch}b${ch}`, tags: [['t', ch], [ch]] })
}
const allC0 = Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join('')
ok('c0_all_and_del', { content: allC0 + '\x7f' + allC0, tags: [['c0', allC0, '\x7f']] })
ok('del', { content: '\x7f', tags: [['del', '\x7f\x7f']] })
ok('c1_controls', { content: Array.from({ length: 32 }, (_, i) => String.fromCharCode(0x80 + i)).join('') })
ok('u2028_u2029', { content: 'line\u2028separator\u2029paragraph', tags: [['x', '\u2028', '\u2029']] })
ok('nul_only', { content: '\0' })
ok('nul_edges', { content: '\0middle\0', tags: [['\0'], ['e', 'a\0b']] })
ok('quotes_backslashes', {
  content: '"\\"\\\\\'\'``"\\u0041 \\n \\\\u00e9 "quoted" C:\\path\\',
  tags: [['q', '"', '\\', '\\"', '"\\']],
})
ok('slashes', { content: 'a/b </script> // http://x/y?z=/', tags: [['r', 'wss://relay.example/']] })
ok('emoji', { content: '😀👍🏽👨‍👩‍👧‍👦🇺🇸❤️‍🔥', tags: [['emoji', '😀', 'https://x/😀.png']] })
ok('non_bmp', { content: '\u{10000}\u{1F600}\u{10FFFF}\u{E0001}\u{1D11E}', tags: [['t', '\u{10FFFF}']] })
ok('bom_noncharacters_replacement', { content: '\uFEFFbom\uFFFE\uFFFF\uFFFD\uFDD0' })
ok('mixed_scripts_combining', { content: 'café cafe\u0301 中文 العربية עברית हिन्दी ﷽ Ω≈ç√' })
ok('json_lookalike', { content: '{"id":"x","kind":1,"tags":[["p"]],"content":"\\u0000"}' })
ok('whitespace_only', { content: ' \t\r\n \u00a0\u3000', tags: [[' ', '\t']] })
{
  const unit = 'ASCII text and é ü 中 😀 / "q" \\ '
  let long = ''
  while (long.length < 70 * 1024) long += unit
  ok('long_content_70k', { content: long })
  let ctrl = ''
  for (let i = 0; ctrl.length < 70 * 1024; i++) ctrl += String.fromCharCode(i % 0x20) + '"\\\x7f'
  ok('long_content_70k_escapes', { content: ctrl })
  ok('long_tag_value_70k', { tags: [['long', long]], content: 'x' })
}
ok('empty_content', { content: '' })
ok('tags_empty_array', { tags: [] })
ok('tags_one_empty_tag', { tags: [[]], content: 'one empty tag' })
ok('tags_empty_strings', { tags: [[''], ['', ''], ['e', ''], ['p', '', '']] })
ok('tags_one_element', { tags: [['t'], ['p'], ['e']] })
ok('tags_many', { tags: Array.from({ length: 2000 }, (_, i) => ['t', 'tag' + i, String(i % 7)]) })
ok('tags_long_tag', { tags: [Array.from({ length: 500 }, (_, i) => 'v' + i)] })
ok('kind_0', { kind: 0, content: '{"name":"proton","about":"beam\\n"}' })
ok('kind_1', { kind: 1 })
ok('kind_20000_ephemeral', { kind: 20000 })
ok('kind_30023_addressable', { kind: 30023, tags: [['d', '']] })
ok('kind_65535', { kind: 65535 })
ok('created_at_0', { created_at: 0, content: 'epoch' })
ok('created_at_1', { created_at: 1 })
ok('created_at_2^31', { created_at: 2 ** 31 })
ok('created_at_2^32', { created_at: 2 ** 32 })
ok('created_at_year_5138', { created_at: 99999999999 })
ok('created_at_2^53', { created_at: 2 ** 53 })
ok('created_at_2^53-1', { created_at: Number.MAX_SAFE_INTEGER })
ok('random_key', { content: 'signed with a key from generateSecretKey' }, keyRandom)
ok('key_B', { content: 'another key' }, keyB)

for (const [name, ev] of valid) {
  add(name, std(ev))
  add(`esc_lower:${name}`, escapeAll(ev, false))
  add(`esc_upper:${name}`, escapeAll(ev, true))
}

// 2. Hand-written escapes, one per idea (the id is over the decoded string, so these stay valid).
{
  const e = sign({ content: 'café a/b 😀 x\u2028y A\0', tags: [['t', 'é/😀']] })
  let t = std(e)
  t = replaceOnce(t, 'café', 'caf\\u00e9')
  t = replaceOnce(t, 'a/b', 'a\\/b')
  t = replaceOnce(t, '😀 ', '\\ud83d\\ude00 ')
  t = replaceOnce(t, '\u2028', '\\u2028')
  t = replaceOnce(t, ' A', ' \\u0041')
  t = replaceOnce(t, '"é/😀"', '"\\u00E9\\/\\uD83D\\uDe00"')
  add('hand_escapes_mixed', t)
}
{
  const e = sign({ content: 'line1\nline2\ttab\x1f' })
  add('hand_escape_long_form_newline', replaceOnce(std(e), '\\n', '\\u000a'))
  add('hand_escape_upper_hex_unit_separator', replaceOnce(std(e), '\\u001f', '\\u001F'))
}
{
  const e = sign({ content: 'keys and hex fields written with escapes' })
  let t = std(e)
  t = replaceOnce(t, '"id":', '"\\u0069d":')
  t = replaceOnce(t, '"content":', '"c\\u006fntent":')
  t = replaceOnce(t, `"pubkey":"${e.pubkey}"`, `"pubkey":"\\u00${e.pubkey.charCodeAt(0).toString(16)}${e.pubkey.slice(1)}"`)
  add('hand_escape_in_keys_and_hex', t)
}

// 3. Other valid shapes: extra fields, key order, whitespace, CRLF.
{
  const e = sign({ content: 'shapes', tags: [['p', pkB]] })
  add('extra_unknown_fields', JSON.stringify({ ...e, seen_on: ['wss://r'], relay: null, n: 1.5, o: { id: 'x' } }))
  add('keys_reordered', JSON.stringify({ sig: e.sig, content: e.content, tags: e.tags, kind: e.kind,
    created_at: e.created_at, pubkey: e.pubkey, id: e.id }))
  add('whitespace_pretty', ' ' + JSON.stringify(e, null, 2).replaceAll('\n', ' \t') + ' ')
  add('crlf_line_end', std(e) + '\r')
}

// 4. Mutations. The base is a valid event with tricky content.
const base = sign({ content: 'base "q" \\ \u2028 😀 \x01', tags: [['e', 'x'], ['t']] })
const baseText = std(base)
const flipNibble = (h, i) => h.slice(0, i) + (h[i] === '0' ? '1' : '0') + h.slice(i + 1)
add('mut_content_changed', std({ ...base, content: base.content + '!' }))
add('mut_content_control_char_swapped', std({ ...base, content: base.content.replace('\x01', '\x02') }))
add('mut_tag_changed', std({ ...base, tags: [['e', 'y'], ['t']] }))
add('mut_tag_appended', std({ ...base, tags: [...base.tags, []] }))
add('mut_kind_changed', std({ ...base, kind: 2 }))
add('mut_created_at_changed', std({ ...base, created_at: base.created_at + 1 }))
add('mut_sig_first_nibble_flipped', std({ ...base, sig: flipNibble(base.sig, 0) }))
add('mut_sig_last_nibble_flipped', std({ ...base, sig: flipNibble(base.sig, 127) }))
add('mut_id_nibble_flipped', std({ ...base, id: flipNibble(base.id, 5) }))
{
  // Same event signed by another key: its sig on ours; then the pubkey swapped and the id recomputed.
  const other = sign({ content: base.content, tags: base.tags }, keyB)
  add('mut_sig_from_other_key', std({ ...base, sig: other.sig }))
  const swapped = { ...base, pubkey: pkB }
  swapped.id = getEventHash(swapped)
  add('mut_pubkey_swapped_id_recomputed', std(swapped))
  add('mut_pubkey_swapped_id_recomputed_other_event_sig', std({ ...swapped, sig: sign({ content: 'z' }, keyB).sig }))
}
add('mut_id_uppercase', std({ ...base, id: base.id.toUpperCase() }))
add('mut_pubkey_uppercase', std({ ...base, pubkey: base.pubkey.toUpperCase() }))
add('mut_sig_uppercase', std({ ...base, sig: base.sig.toUpperCase() }))
add('mut_id_short', std({ ...base, id: base.id.slice(2) }))
add('mut_id_long', std({ ...base, id: base.id + '00' }))
add('mut_id_non_hex', std({ ...base, id: 'g' + base.id.slice(1) }))
add('mut_sig_short', std({ ...base, sig: base.sig.slice(2) }))
add('mut_sig_long', std({ ...base, sig: base.sig + '00' }))
add('mut_sig_odd_length', std({ ...base, sig: base.sig.slice(1) }))
add('mut_pubkey_not_on_curve', std({ ...base, pubkey: 'f'.repeat(64) }))
{
  const offCurve = { ...base, pubkey: 'f'.repeat(64) } // ff..ff exceeds the field prime: no such x
  offCurve.id = getEventHash(offCurve)
  add('mut_pubkey_not_on_curve_id_recomputed', std(offCurve))
}
add('mut_kind_70000_after_signing', std({ ...base, kind: 70000 }))
add('signed_kind_70000', std(sign({ kind: 70000, content: 'kind above 65535' })))
add('signed_kind_negative', std(sign({ kind: -1, content: 'negative kind' })))
add('signed_created_at_negative', std(sign({ created_at: -1, content: 'before the epoch' })))
add('signed_created_at_fraction', std(sign({ created_at: 1700000000.5, content: 'half a second' })))
{
  const e = sign({ created_at: 1700000000, kind: 1, content: 'numbers written as floats' })
  const t = std(e)
  add('created_at_integral_float', replaceOnce(t, '"created_at":1700000000', '"created_at":1700000000.0'))
  add('created_at_exponent', replaceOnce(t, '"created_at":1700000000', '"created_at":1.7e9'))
  add('kind_integral_float', replaceOnce(t, '"kind":1,', '"kind":1.0,'))
  add('created_at_string', replaceOnce(t, '"created_at":1700000000', '"created_at":"1700000000"'))
  add('kind_string', replaceOnce(t, '"kind":1,', '"kind":"1",'))
  add('created_at_leading_zero', replaceOnce(t, '"created_at":1700000000', '"created_at":01700000000'))
  add('created_at_plus_sign', replaceOnce(t, '"created_at":1700000000', '"created_at":+1700000000'))
  // Duplicate keys: JSON.parse keeps the last; a careful relay refuses the ambiguity.
  add('duplicate_key_kind', replaceOnce(t, '"kind":1,', '"kind":2,"kind":1,'))
  add('duplicate_key_content_same_value', replaceOnce(t, '"content":', `"content":${JSON.stringify(e.content)},"content":`))
}
{
  const e = sign({ created_at: 0, content: 'negative zero' })
  add('created_at_negative_zero', replaceOnce(std(e), '"created_at":0', '"created_at":-0'))
}
{
  // created_at = 2^53 + 1, signed over its exact digits (what a C, Go or Rust implementation does).
  // JSON.parse rounds it to 2^53, so nostr-tools hashes different text.
  const created = '9007199254740993'
  const content = 'created_at above 2^53'
  const canonical = `[0,"${pkA}",${created},1,[],${JSON.stringify(content)}]`
  const id = hex(sha256(Buffer.from(canonical, 'utf8')))
  const sig = hex(schnorr.sign(Buffer.from(id, 'hex'), keyA))
  add('created_at_2^53+1_exact_digits',
    `{"id":"${id}","pubkey":"${pkA}","created_at":${created},"kind":1,"tags":[],"content":${JSON.stringify(content)},"sig":"${sig}"}`)
}
add('signed_lone_high_surrogate_content', std(sign({ content: 'lone \ud800 high' })))
add('signed_lone_low_surrogate_tag', std(sign({ content: 'x', tags: [['t', '\udc00']] })))
add('reversed_surrogate_pair', std(sign({ content: '\ude00\ud83d' })))
{
  // Byte-level: invalid UTF-8 inside the content string. Node's text decoding turns each bad sequence
  // into U+FFFD, and the event is signed over exactly what Node decodes.
  const cases = {
    invalid_utf8_byte_ff: [0x61, 0xff, 0x62],
    invalid_utf8_cesu_surrogate: [0x61, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0x62],
    invalid_utf8_overlong_slash: [0xc0, 0xaf],
    invalid_utf8_truncated: [0x61, 0xe2, 0x82],
  }
  for (const [name, raw] of Object.entries(cases)) {
    const e = sign({ content: lossyDecoder.decode(new Uint8Array(raw)) })
    add(name, withRawContent(e, raw))
  }
  // Unescaped control characters inside a JSON string are not JSON (RFC 8259 section 7).
  const e1 = sign({ content: '\x01' })
  add('raw_control_char_in_string', withRawContent(e1, [0x01]))
  const e2 = sign({ content: 'a\tb' })
  add('raw_tab_in_string', withRawContent(e2, [0x61, 0x09, 0x62]))
  const e3 = sign({ content: '\r' })
  add('raw_cr_in_string', withRawContent(e3, [0x0d]))
}
add('tag_with_number', std({ ...base, tags: [['R', 'pow', 0]] }))
add('tag_with_null', std({ ...base, tags: [['e', null]] }))
add('tag_with_object', std({ ...base, tags: [['e', {}]] }))
add('tag_not_array', std({ ...base, tags: ['p'] }))
add('tags_object', std({ ...base, tags: {} }))
add('tags_null', std({ ...base, tags: null }))
add('tags_string', std({ ...base, tags: '[]' }))
add('content_number', std({ ...base, content: 1 }))
add('content_null', std({ ...base, content: null }))
add('content_array', std({ ...base, content: ['x'] }))
add('id_number', std({ ...base, id: 1 }))
add('pubkey_null', std({ ...base, pubkey: null }))
add('sig_array', std({ ...base, sig: [base.sig] }))
for (const f of FIELDS) {
  const { [f]: _, ...rest } = base
  add(`missing_${f}`, std(rest))
}
add('not_json', 'hello')
add('empty_line', '')
add('truncated', baseText.slice(0, -1))
add('trailing_garbage', baseText + 'x')
add('two_objects', baseText + baseText)
add('array_of_event', '[' + baseText + ']')
add('json_string', JSON.stringify(baseText))
add('json_null', 'null')
add('empty_object', '{}')
add('event_as_nip01_message', JSON.stringify(['EVENT', pick(base)]))

// ---------------------------------------------------------------------------------------------------
// Write the corpus and the verdicts (computed from the bytes just written, read back from disk).

const eventsPath = join(outdir, 'events.jsonl')
writeFileSync(eventsPath, Buffer.concat(lines.flatMap(l => [l.bytes, Buffer.from('\n')])))
const back = readFileSync(eventsPath)
const verdicts = []
let start = 0
for (const { name } of lines) {
  const end = back.indexOf(0x0a, start)
  verdicts.push({ name, ...oracle(back.subarray(start, end)) })
  start = end + 1
}
writeFileSync(join(outdir, 'verdicts.jsonl'), verdicts.map(v => JSON.stringify(v)).join('\n') + '\n')

const accepted = verdicts.filter(v => v.accepted).length
const { version } = JSON.parse(readFileSync(new URL('./node_modules/nostr-tools/package.json', import.meta.url)))
console.log(JSON.stringify({ nostr_tools: version, lines: lines.length, accepted, rejected: lines.length - accepted }))
