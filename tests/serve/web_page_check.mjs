#!/usr/bin/env node
// Drives the web page of a running `proton-beam serve` in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core) and checks it against an independent computation over the JSONL the archive
// was converted from (oracle.mjs: nostr-tools matchFilter + the default-mode rules):
//   - the overview numbers equal /api/v1/stats and the events file (events, authors, day range, kinds);
//   - the chart has one bar per day with events, with that day's count; the kinds table lists every kind;
//   - form queries (author + kind paged with "Load more", the same author as npub, tag + time range, a
//     click on a kinds row) list exactly the expected events, newest first;
//   - hostile HTML in content, tags and the archive name is shown as literal text: no <img>/<script>
//     appears, window.__pwned stays undefined; no CSP violation, no page error, no request off the origin.
// Every wait is for a DOM condition. --screenshot PATH also writes a PNG of the page.
// Usage: node web_page_check.mjs --port P --events FILE [--name TEXT] [--screenshot PATH]
import { parseArgs } from 'node:util'
import { Oracle, loadEvents } from './oracle.mjs'
import { matchFilter, require } from '../relay/lib.mjs'

const { values: o } = parseArgs({ options: {
  port: { type: 'string' }, events: { type: 'string' }, name: { type: 'string' }, screenshot: { type: 'string' },
  chromium: { type: 'string', default: process.env.PB_CHROMIUM || '/usr/bin/chromium' } } })
const { chromium } = require('playwright-core')
const nip19 = require('nostr-tools/nip19')
const BASE = `http://127.0.0.1:${o.port}`
const WAIT = { timeout: 120000 }
const events = loadEvents(o.events)
const oracle = new Oracle(events)

let failures = 0
function check(ok, what, detail = '') {
  if (ok) return
  failures++
  console.error(`FAIL: ${what}${detail ? ': ' + detail : ''}`)
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
function checkEqual(got, want, what) {
  check(same(got, want), what, `got ${JSON.stringify(got).slice(0, 400)}, want ${JSON.stringify(want).slice(0, 400)}`)
}
const utcDay = secs => new Date(secs * 1000).toISOString().slice(0, 10)
const countBy = (items, key) => { const m = new Map(); for (const x of items) m.set(key(x), (m.get(key(x)) || 0) + 1); return m }
const expectIds = filter => oracle.served.filter(ev => matchFilter(filter, ev)).map(ev => ev.id)

const browser = await chromium.launch({ executablePath: o.chromium, headless: true,
  args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [] })
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 1180 } })
  const problems = []
  page.on('pageerror', e => problems.push(`page error: ${e.message}`))
  page.on('console', m => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`) })
  page.on('request', r => { if (!r.url().startsWith(BASE + '/')) problems.push(`request off the origin: ${r.url()}`) })
  await page.addInitScript(() => {
    window.__csp = []
    document.addEventListener('securitypolicyviolation', e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`))
  })

  // ---- the page loads, with its strict CSP ----
  const resp = await page.goto(BASE + '/', WAIT)
  check(resp.status() === 200, 'GET / status', String(resp.status()))
  check(/^text\/html/.test(resp.headers()['content-type'] || ''), 'GET / content type')
  const csp = resp.headers()['content-security-policy'] || ''
  check(csp.includes("default-src 'none'") && csp.includes("script-src 'sha256-") && !csp.includes('unsafe'),
    'strict Content-Security-Policy', csp)
  await page.waitForSelector('#overview[data-ready="1"]', WAIT)
  await page.waitForFunction(() => document.getElementById('results').dataset.state === 'done', null, WAIT)

  // ---- overview numbers: the page = /api/v1/stats = the events file ----
  const stats = await (await fetch(BASE + '/api/v1/stats')).json()
  const value = id => page.getAttribute('#' + id, 'data-value')
  const days = [...new Set(events.map(e => utcDay(e.created_at)))].sort()
  checkEqual(stats.events, events.length, 'stats events = events in the file')
  checkEqual(await value('ov-events'), String(stats.events), 'overview events')
  checkEqual(await page.textContent('#ov-events'), stats.events.toLocaleString('en-US'), 'overview events text')
  checkEqual(stats.distinct_authors, new Set(events.map(e => e.pubkey)).size, 'stats authors = authors in the file')
  checkEqual(await value('ov-authors'), String(stats.distinct_authors), 'overview authors')
  checkEqual([stats.first_day, stats.last_day], [days[0], days.at(-1)], 'stats day range = the file')
  checkEqual(await value('ov-range'), `${stats.first_day}/${stats.last_day}`, 'overview date range')
  checkEqual(await value('ov-size'), String(stats.day_file_bytes + stats.index_bytes), 'overview size')
  check(stats.day_file_bytes > 0 && stats.index_bytes > 0, 'stats sizes are positive')
  checkEqual(await value('ov-kinds'), String(stats.distinct_kinds), 'overview kinds')

  // ---- chart: one bar per day with events, its count ----
  const bars = await page.$$eval('#chart rect.bar', rs => rs.map(r => [r.dataset.day, Number(r.dataset.events), Number(r.getAttribute('height'))]))
  const perDay = countBy(events, e => utcDay(e.created_at))
  checkEqual(bars.map(b => [b[0], b[1]]), days.map(d => [d, perDay.get(d)]), 'chart bars (day, events)')
  check(bars.every(b => b[2] > 0), 'every bar has a height')
  const tallest = bars.reduce((a, b) => (b[1] > a[1] ? b : a), bars[0])
  check(bars.every(b => b[2] <= tallest[2]), 'the busiest day has the tallest bar')

  // ---- kinds table ----
  const rows = await page.$$eval('#kinds tbody tr', rs => rs.map(r => [Number(r.dataset.kind), Number(r.dataset.events)]))
  const kindCounts = [...countBy(events, e => e.kind)].sort((a, b) => a[0] - b[0])
  checkEqual([...rows].sort((a, b) => a[0] - b[0]), kindCounts, 'kinds table (kind, events)')
  checkEqual(rows, stats.kinds.map(k => [k.kind, k.events]), 'kinds table in the order of /api/v1/stats')

  // ---- queries through the form ----
  const resultIds = () => page.$$eval('#results article.ev', as => as.map(a => a.dataset.id))
  const seq = async () => Number(await page.getAttribute('#results', 'data-seq'))
  const settled = async before => {
    await page.waitForFunction(b => { const r = document.getElementById('results'); return Number(r.dataset.seq) > b && r.dataset.state !== 'loading' }, before, WAIT)
    return page.getAttribute('#results', 'data-state')
  }
  // Fills the form (fields not given are cleared), submits, follows "Load more" to the end; the ids shown.
  async function formQuery(fields, what, wantState = 'done') {
    await page.click('#clear')
    await page.waitForFunction(() => document.getElementById('results').dataset.state !== 'loading', null, WAIT)
    for (const [name, v] of Object.entries(fields)) await page.fill(`#query [name="${name}"]`, String(v))
    const before = await seq()
    await page.click('#search')
    const state = await settled(before)
    check(state === wantState, `${what}: query state`, `${state}: ${await page.textContent('#qstatus')}`)
    while (await page.isVisible('#more')) {
      const pages = Number(await page.getAttribute('#results', 'data-pages'))
      await page.click('#more')
      await page.waitForFunction(n => { const r = document.getElementById('results'); return Number(r.dataset.pages) > n && r.dataset.state !== 'loading' }, pages, WAIT)
      check(await page.getAttribute('#results', 'data-state') === 'done', `${what}: next page state`)
    }
    // Each result's JSON block is the stored event itself.
    const shownJson = await page.$$eval('#results pre.json', ps => ps.map(p => JSON.parse(p.textContent)))
    const byId = new Map(events.map(e => [e.id, e]))
    const canon = e => e && JSON.stringify(Object.keys(e).sort().map(k => [k, e[k]]))
    const bad = shownJson.filter(e => canon(e) !== canon(byId.get(e.id)))
    check(bad.length === 0, `${what}: JSON shown = the stored events`, JSON.stringify(bad[0]))
    return resultIds()
  }

  // Newest events on load (limit 50 per page).
  checkEqual(await resultIds(), oracle.served.slice(0, 50).map(e => e.id), 'events listed on load')

  // Author + kind, in about 5 pages through "Load more": the busiest author of notes.
  const notes = countBy(oracle.served.filter(e => e.kind === 1), e => e.pubkey)
  const author = [...notes].sort((a, b) => b[1] - a[1])[0][0]
  const want1 = expectIds({ authors: [author], kinds: [1] })
  const perPage = Math.max(7, Math.ceil(want1.length / 5))
  check(want1.length > perPage, 'the author + kind query spans several pages', String(want1.length))
  checkEqual(await formQuery({ authors: author, kinds: '1', limit: perPage }, 'author+kind'), want1, 'author + kind query (paged)')
  checkEqual(await formQuery({ authors: nip19.npubEncode(author), kinds: '1', limit: 500 }, 'npub'), want1, 'the same query by npub')

  // The most used t tag + a time range with edges on existing created_at values (both inclusive).
  const tCounts = countBy(oracle.served.flatMap(e => [...new Set(e.tags.filter(t => t[0] === 't' && /^[^\s,]+$/.test(t[1] ?? '')).map(t => t[1]))]), v => v)
  const topic = [...tCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0]
  const tagged = oracle.served.filter(e => e.tags.some(t => t[0] === 't' && t[1] === topic))
  const times = [...new Set(tagged.map(e => e.created_at))].sort((a, b) => a - b)
  const since = times[Math.floor(times.length / 4)], until = times[Math.floor(3 * times.length / 4)]
  // datetime-local drops ":00" seconds, which playwright's fill would take for a malformed value.
  const iso = s => new Date(s * 1000).toISOString().slice(0, 19).replace(/:00$/, '')
  const want2 = expectIds({ '#t': [topic], since, until })
  check(want2.length > 2, 'the tag query matches several events', String(want2.length))
  checkEqual(await formQuery({ tags: `t=${topic}`, since: iso(since), until: iso(until), limit: 500 }, 'tag+range'), want2, 'tag + time range query')

  // A click on a kinds row (the second most common kind) queries that kind.
  const rowKind = (stats.kinds[1] ?? stats.kinds[0]).kind
  const before = await seq()
  await page.click(`#kinds tbody tr[data-kind="${rowKind}"]`)
  check(await settled(before) === 'done', 'kinds row click: query state')
  checkEqual(await resultIds(), expectIds({ kinds: [rowKind] }).slice(0, 50), 'kinds row click lists that kind')

  // Bad input: a clear message, no request.
  checkEqual(await formQuery({ authors: 'not-a-key' }, 'bad author', 'error'), [], 'a bad author lists nothing')
  checkEqual(await page.getAttribute('#qstatus', 'class'), 'error', 'a bad author is reported')

  // ---- hostile content stays inert text ----
  const hostile = events.filter(e => e.tags.some(t => t[0] === 't' && t[1] === 'hostile'))
  check(hostile.length >= 3, 'the archive holds the hostile events')
  checkEqual(await formQuery({ tags: 't=hostile' }, 'hostile'), expectIds({ '#t': ['hostile'] }), 'hostile events listed')
  const shown = await page.$$eval('#results article.ev', as => as.map(a => ({ id: a.dataset.id, content: a.querySelector('.content')?.textContent ?? '', tags: [...a.querySelectorAll('.tag')].map(t => t.textContent) })))
  for (const ev of hostile) {
    const s = shown.find(x => x.id === ev.id)
    check(s && s.content === ev.content, 'hostile content shown as literal text', ev.content)
    for (const t of ev.tags) check(s && s.tags.includes(t.join(' ')), 'hostile tag shown as literal text', t.join(' '))
  }
  checkEqual(await page.$$eval('#results img, #results script, #results b', es => es.length), 0, 'no element made from event data')
  checkEqual(await page.$$eval('img', es => es.length), 0, 'no <img> on the page')
  checkEqual(await page.evaluate(() => typeof window.__pwned), 'undefined', 'window.__pwned')
  if (o.name !== undefined) checkEqual(await page.textContent('#title'), o.name, 'the archive name shown as text')
  checkEqual(await page.evaluate(() => window.__csp), [], 'CSP violations')

  if (o.screenshot) {
    await page.click('#clear')
    await page.waitForFunction(() => document.getElementById('results').dataset.state === 'done', null, WAIT)
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: o.screenshot })
  }
  checkEqual(problems, [], 'page errors, console errors, requests off the origin')
} finally {
  await browser.close()
}
if (failures) { console.error(`web page: ${failures} check(s) failed`); process.exit(1) }
console.log(`OK web page: ${events.length} events, ${oracle.served.length} served; overview, chart, kinds, 5 queries, hostile content inert`)
