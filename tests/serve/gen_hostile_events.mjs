#!/usr/bin/env node
// Signed kind-1 events whose content and tags are hostile HTML, for the web page test
// (tests/serve/web_page_check.mjs): the page must show them as literal text and run none of them.
// All carry the tag ["t", "hostile"]. Usage: node gen_hostile_events.mjs [--base-time T] >> events.jsonl
import { parseArgs } from 'node:util'
import { createHash } from 'node:crypto'
import { nt } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: { 'base-time': { type: 'string', default: '1700000000' } } })
const BASE = Number(o['base-time'])
const key = createHash('sha256').update('web-page/hostile').digest()
const HOSTILE = [
  { content: '<img src=x onerror="window.__pwned=1">', tags: [] },
  { content: '<script>window.__pwned=2</script></pre></div><b>bold?</b>', tags: [] },
  { content: 'look at my tags', tags: [['subject', '<img src=x onerror="window.__pwned=3">']] },
]
HOSTILE.forEach((h, i) => {
  const ev = nt.finalizeEvent({ kind: 1, created_at: BASE + 60 + i, tags: [['t', 'hostile'], ...h.tags], content: h.content }, key)
  process.stdout.write(JSON.stringify(ev) + '\n')
})
