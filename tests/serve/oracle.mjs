// The independent oracle of the serve tests: which events a REQ / COUNT must return, computed from the
// JSONL the archive was converted from, with nostr-tools' matchFilter. Default mode applies the
// latest-version (replaceable 0/3/10000-19999, addressable 30000-39999 by d; ties: lowest id), NIP-09
// deletion (kind 5 by the same author: e ids; a addresses up to its created_at) and NIP-40 expiry rules;
// history mode serves every event.
import { readFileSync } from 'node:fs'
import { matchFilter } from '../relay/lib.mjs'

export const before = (a, b) => (a.created_at !== b.created_at ? b.created_at - a.created_at : (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
const replaceable = k => k === 0 || k === 3 || (k >= 10000 && k < 20000)
const addressable = k => k >= 30000 && k < 40000
const dTag = ev => { const t = ev.tags.find(t => t[0] === 'd' && t.length >= 2); return t ? t[1] : '' }
const address = ev => replaceable(ev.kind) ? `${ev.kind}:${ev.pubkey}:` : addressable(ev.kind) ? `${ev.kind}:${ev.pubkey}:${dTag(ev)}` : null
function expired(ev, now) {
  const t = ev.tags.find(t => t[0] === 'expiration' && t.length >= 2)
  return !!t && /^-?[0-9]+$/.test(t[1]) && Number(t[1]) <= now
}

export function loadEvents(file) {
  const seen = new Set()
  const out = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    const ev = JSON.parse(line)
    if (seen.has(ev.id)) continue
    seen.add(ev.id)
    out.push(ev)
  }
  return out
}

export class Oracle {
  constructor(events, { history = false, maxLimit = 5000, defaultLimit = 500 } = {}) {
    this.maxLimit = maxLimit
    this.defaultLimit = defaultLimit
    const now = Math.floor(Date.now() / 1000)
    const sorted = [...events].sort(before)
    if (history) { this.served = sorted; return }
    const latest = new Map()
    for (const ev of sorted) { const a = address(ev); if (a && !latest.has(a)) latest.set(a, ev.id) }
    const deletions = sorted.filter(e => e.kind === 5)
    const deleted = ev => ev.kind !== 5 && deletions.some(d => d.pubkey === ev.pubkey && d.tags.some(t =>
      (t[0] === 'e' && t[1] === ev.id) || (t[0] === 'a' && address(ev) !== null && t[1] === address(ev) && d.created_at >= ev.created_at)))
    this.served = sorted.filter(ev => !expired(ev, now) && !deleted(ev) && (address(ev) === null || latest.get(address(ev)) === ev.id))
  }
  limitOf(f) { return Math.min(f.limit ?? this.defaultLimit, this.maxLimit) }
  // Events a REQ sends before EOSE, in order.
  req(filters) {
    const byId = new Map()
    for (const f of filters) {
      const lim = this.limitOf(f)
      if (lim <= 0) continue
      let n = 0
      for (const ev of this.served) {
        if (!matchFilter(f, ev)) continue
        byId.set(ev.id, ev)
        if (++n >= lim) break
      }
    }
    return [...byId.values()].sort(before)
  }
  count(filters) { return this.served.filter(ev => filters.some(f => matchFilter(f, ev))).length }
}
