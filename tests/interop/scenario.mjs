// Stock yjs + y-websocket clients driven against a running Candor server.
//
//   node scenario.mjs SCENARIO SERVER_URL ROOM [ARGS...]
//
// SERVER_URL is what a WebsocketProvider takes as serverUrl (ws://HOST:PORT/ws);
// the provider appends "/ROOM" itself. On success the scenario's result is printed
// as one JSON line on stdout and the exit code is 0. On failure a message goes to
// stderr and the exit code is 1 (2 when the whole script ran out of time). Progress
// is logged to stderr. Every wait is bounded.
//
// Scenarios:
//   converge                three providers edit concurrently and converge
//   late-joiner             a fourth provider (and a fifth, after everyone left) gets the full state
//   offline                 a provider edits while disconnected, reconnects, nothing is lost
//   awareness               presence is relayed, sent to newcomers, and removed on destroy
//   awareness-vanish        presence is removed by the server when a peer's socket just dies
//   mixed KEY[,KEY...]      one provider edits, then waits for the given keys (written by
//                           another client, e.g. pycrdt) and for the room to settle

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const WAIT_MS = 15_000
const SCRIPT_MS = 25_000

const log = (...parts) => console.error('[interop]', ...parts)

class ScenarioError extends Error {}

function fail (message) {
  throw new ScenarioError(message)
}

// ---- helpers -----------------------------------------------------------------

/** JSON with object keys sorted, so equal content gives equal strings. */
function canonical (value) {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v
  )
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Resolve once predicate() is true; checked every 10 ms. Rejects after timeoutMs
 * with a message naming what was awaited and, if given, describe()'s state dump.
 */
async function waitFor (label, predicate, { timeoutMs = WAIT_MS, describe } = {}) {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) {
      const state = describe ? `\nstate: ${describe()}` : ''
      fail(`timed out after ${timeoutMs / 1000} s waiting for ${label}${state}`)
    }
    await sleep(10)
  }
  return Date.now() - started
}

/** Server-initiated closes and socket errors seen by any provider: all unexpected. */
const incidents = []

/** incidents for a message: repeats (reconnect attempts) counted, not listed. */
function incidentSummary () {
  const counts = new Map()
  for (const i of incidents) {
    const key = canonical(i)
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([key, n]) => (n > 1 ? `${n} x ${key}` : key)).join('; ')
}

/** A stock provider with its own Y.Doc; BroadcastChannel off so only the server relays. */
function makeClient (serverUrl, room, name, { connect = true } = {}) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(serverUrl, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    connect
  })
  provider.on('connection-close', (event) => {
    // event is null when we closed the socket ourselves (disconnect/destroy)
    if (event) {
      incidents.push({ client: name, kind: 'close', code: event.code, reason: String(event.reason ?? '') })
      log(`${name}: server closed the connection: ${event.code} ${event.reason}`)
    }
  })
  provider.on('connection-error', (event) => {
    incidents.push({ client: name, kind: 'error', message: String(event?.message ?? event) })
    log(`${name}: connection error: ${event?.message ?? event}`)
  })
  const notes = doc.getMap('notes')
  return { name, doc, provider, notes, awareness: provider.awareness, json: () => notes.toJSON() }
}

function waitSynced (client) {
  return waitFor(`${client.name} to sync`, () => client.provider.synced, {
    describe: () => `wsconnected=${client.provider.wsconnected}; incidents: ${incidentSummary() || 'none'}`
  })
}

/** Wait until every client's notes are equal (and accepted by extra(), if given). */
function waitConverged (label, clients, extra = () => true) {
  return waitFor(
    label,
    () => {
      const first = canonical(clients[0].json())
      return clients.every((c) => canonical(c.json()) === first) && extra(clients[0].json())
    },
    { describe: () => canonical(Object.fromEntries(clients.map((c) => [c.name, c.json()]))) }
  )
}

function note (author, i) {
  return { text: `${author} note ${i}`, author, x: 40 * i, y: 10 + i, votes: [author] }
}

function hasKeys (notes, keys) {
  return keys.every((k) => Object.hasOwn(notes, k))
}

// ---- scenarios ---------------------------------------------------------------

async function converge (serverUrl, room) {
  const clients = ['A', 'B', 'C'].map((n) => makeClient(serverUrl, room, n))
  for (const c of clients) await waitSynced(c)
  log('converge: A, B, C synced')
  // All edits in one synchronous block: none of them has seen another's edits,
  // so they are truly concurrent, including three writes of the same key.
  const expectedKeys = []
  for (let i = 0; i < 5; i++) {
    for (const c of clients) {
      const key = `${c.name}-${i}`
      c.doc.transact(() => c.notes.set(key, note(c.name, i)))
      expectedKeys.push(key)
    }
  }
  for (const c of clients) c.notes.set('shared', { text: `written by ${c.name}`, author: c.name })
  expectedKeys.push('shared')
  const ms = await waitConverged('A, B and C to converge', clients, (n) => hasKeys(n, expectedKeys))
  log(`converge: converged in ${ms} ms`)
  const result = {
    expectedKeys,
    notes: Object.fromEntries(clients.map((c) => [c.name, c.json()]))
  }
  for (const c of clients) c.provider.destroy()
  return result
}

async function lateJoiner (serverUrl, room) {
  const writers = ['A', 'B', 'C'].map((n) => makeClient(serverUrl, room, n))
  for (const c of writers) await waitSynced(c)
  const expectedKeys = []
  for (const c of writers) {
    for (let i = 0; i < 4; i++) {
      c.notes.set(`${c.name}-${i}`, note(c.name, i))
      expectedKeys.push(`${c.name}-${i}`)
    }
  }
  writers[0].notes.delete('A-3') // deletions must reach late joiners too
  expectedKeys.splice(expectedKeys.indexOf('A-3'), 1)
  await waitConverged('A, B and C to converge', writers, (n) => hasKeys(n, expectedKeys))
  const converged = writers[0].json()
  log('late-joiner: writers converged; D joins')

  // D joins while the writers are still connected; its sync step 2 from the server
  // must already carry the whole board.
  const d = makeClient(serverUrl, room, 'D')
  let dAtSync = null
  d.provider.on('sync', (synced) => {
    if (synced && dAtSync === null) dAtSync = d.json()
  })
  await waitSynced(d)
  await waitConverged('D to converge with the writers', [...writers, d])

  // E joins after every other client has left: only the server can hand it the state.
  for (const c of [...writers, d]) c.provider.destroy()
  await sleep(100)
  log('late-joiner: everyone left; E joins')
  const e = makeClient(serverUrl, room, 'E')
  let eAtSync = null
  e.provider.on('sync', (synced) => {
    if (synced && eAtSync === null) eAtSync = e.json()
  })
  await waitSynced(e)
  await waitFor('E to receive the full board', () => canonical(e.json()) === canonical(converged), {
    describe: () => canonical({ e: e.json(), converged })
  })
  const result = { expectedKeys, converged, dAtSync, d: d.json(), eAtSync, e: e.json() }
  e.provider.destroy()
  return result
}

async function offline (serverUrl, room) {
  const [a, b, c] = ['A', 'B', 'C'].map((n) => makeClient(serverUrl, room, n))
  const all = [a, b, c]
  for (const x of all) await waitSynced(x)
  for (const x of all) {
    x.notes.set(`${x.name}-base`, note(x.name, 0))
    x.notes.set(`${x.name}-doomed`, note(x.name, 1))
  }
  const baseKeys = all.flatMap((x) => [`${x.name}-base`, `${x.name}-doomed`])
  await waitConverged('A, B and C to converge before going offline', all, (n) => hasKeys(n, baseKeys))
  log('offline: base converged; A disconnects')

  a.provider.disconnect()
  await waitFor('A to be disconnected', () => !a.provider.wsconnected && a.provider.ws === null)

  // A edits while offline ...
  a.notes.set('A-offline-1', note('A', 2))
  a.notes.set('A-offline-2', note('A', 3))
  a.notes.set('B-base', { ...note('B', 0), text: 'B base, edited by A offline' })
  a.notes.delete('A-doomed')
  a.notes.set('contested', { text: 'A, offline', author: 'A' })
  // ... while B and C edit online, concurrently.
  b.notes.set('B-online', note('B', 2))
  b.notes.delete('B-doomed')
  b.notes.set('contested', { text: 'B, online', author: 'B' })
  c.notes.set('C-online', note('C', 2))
  c.notes.set('C-base', { ...note('C', 0), text: 'C base, edited by C online' })

  const onlineKeys = ['B-online', 'C-online', 'contested']
  await waitConverged('B and C to converge while A is offline', [b, c], (n) => hasKeys(n, onlineKeys))
  const offlineKeys = ['A-offline-1', 'A-offline-2']
  const bWhileAOffline = b.json()
  const aWhileOffline = a.json()
  if (hasKeys(bWhileAOffline, offlineKeys.slice(0, 1)) || hasKeys(bWhileAOffline, offlineKeys.slice(1))) {
    fail(`B saw A's offline edits before A reconnected: ${canonical(bWhileAOffline)}`)
  }
  if (Object.hasOwn(aWhileOffline, 'B-online') || Object.hasOwn(aWhileOffline, 'C-online')) {
    fail(`A saw online edits while disconnected: ${canonical(aWhileOffline)}`)
  }

  log('offline: A reconnects')
  a.provider.connect()
  await waitSynced(a)
  const expectedKeys = ['A-base', 'B-base', 'C-base', 'C-doomed', ...offlineKeys, ...onlineKeys]
  const removedKeys = ['A-doomed', 'B-doomed']
  const ms = await waitConverged(
    'A, B and C to converge after A reconnected',
    all,
    (n) => hasKeys(n, expectedKeys) && !removedKeys.some((k) => Object.hasOwn(n, k))
  )
  log(`offline: converged ${ms} ms after A synced`)
  const result = {
    expectedKeys,
    removedKeys,
    bWhileAOffline,
    aWhileOffline,
    notes: Object.fromEntries(all.map((x) => [x.name, x.json()]))
  }
  for (const x of all) x.provider.destroy()
  return result
}

function presence (client) {
  const states = client.awareness.getStates()
  return (id) => states.get(id) ?? null
}

async function awareness (serverUrl, room) {
  const a = makeClient(serverUrl, room, 'A')
  const b = makeClient(serverUrl, room, 'B')
  await waitSynced(a)
  await waitSynced(b)
  const aId = a.doc.clientID
  const bId = b.doc.clientID
  const aState = { user: { name: 'Ada', color: '#ff0066' }, cursor: { x: 120, y: 45 } }
  const bState = { user: { name: 'Bob', color: '#0066ff' } }
  const removals = []
  b.awareness.on('change', ({ removed }) => removals.push(...removed))

  a.awareness.setLocalState(aState)
  b.awareness.setLocalState(bState)
  await waitFor("B to see A's presence", () => canonical(presence(b)(aId)) === canonical(aState), {
    describe: () => canonical([...b.awareness.getStates()])
  })
  await waitFor("A to see B's presence", () => canonical(presence(a)(bId)) === canonical(bState), {
    describe: () => canonical([...a.awareness.getStates()])
  })
  const bSawA = presence(b)(aId)

  // An update of A's state is relayed too.
  const aMoved = { ...aState, cursor: { x: 300, y: 200 } }
  a.awareness.setLocalState(aMoved)
  await waitFor("B to see A's cursor move", () => canonical(presence(b)(aId)) === canonical(aMoved))

  // A newcomer gets the presence already in the room on connect (y-websocket never
  // asks for it, and A has no reason to resend its state within the test).
  const c = makeClient(serverUrl, room, 'C')
  await waitSynced(c)
  await waitFor("C (a newcomer) to see A's and B's presence", () =>
    canonical(presence(c)(aId)) === canonical(aMoved) && canonical(presence(c)(bId)) === canonical(bState),
  { describe: () => canonical([...c.awareness.getStates()]) })
  const cSaw = { A: presence(c)(aId), B: presence(c)(bId) }

  log('awareness: A is destroyed')
  a.provider.destroy()
  await waitFor("B to see A's presence removed", () => !b.awareness.getStates().has(aId), {
    describe: () => canonical([...b.awareness.getStates()])
  })
  await waitFor("C to see A's presence removed", () => !c.awareness.getStates().has(aId), {
    describe: () => canonical([...c.awareness.getStates()])
  })
  const result = {
    aId,
    bId,
    aState,
    bSawA,
    aMoved,
    cSaw,
    bRemovedA: removals.includes(aId),
    bStillConnected: b.provider.wsconnected && c.provider.wsconnected,
    bStatesAfter: Object.fromEntries([...b.awareness.getStates()].map(([k, v]) => [String(k), v]))
  }
  b.provider.destroy()
  c.provider.destroy()
  return result
}

async function awarenessVanish (serverUrl, room) {
  const a = makeClient(serverUrl, room, 'A')
  const b = makeClient(serverUrl, room, 'B')
  await waitSynced(a)
  await waitSynced(b)
  const aId = a.doc.clientID
  const aState = { user: { name: 'Ada', color: '#ff0066' } }
  a.awareness.setLocalState(aState)
  await waitFor("B to see A's presence", () => canonical(presence(b)(aId)) === canonical(aState))

  // A's socket dies without a close frame and without A saying goodbye: only the
  // server can tell B that A is gone. (shouldConnect=false stops A reconnecting.)
  log("awareness-vanish: A's socket is destroyed")
  a.provider.shouldConnect = false
  a.awareness.off('update', a.provider._awarenessUpdateHandler)
  a.provider.ws.terminate()
  const ms = await waitFor("B to see A's presence removed by the server", () => !b.awareness.getStates().has(aId), {
    describe: () => canonical([...b.awareness.getStates()])
  })
  log(`awareness-vanish: removed ${ms} ms after A's socket died`)
  const result = {
    aId,
    removedAfterMs: ms,
    bStillConnected: b.provider.wsconnected,
    bStatesAfter: Object.fromEntries(b.awareness.getStates())
  }
  // A's own 'close' (code 1006) is expected here; keep only B's incidents.
  const own = incidents.filter((i) => i.client === 'A' && i.kind === 'close' && i.code === 1006)
  for (const i of own) incidents.splice(incidents.indexOf(i), 1)
  b.provider.destroy()
  a.provider.destroy()
  return result
}

async function mixed (serverUrl, room, keysArg) {
  const waitKeys = (keysArg ?? '').split(',').filter(Boolean)
  if (waitKeys.length === 0) fail('mixed: give the keys to wait for, e.g. "py-1,py-2"')
  const n = makeClient(serverUrl, room, 'node')
  await waitSynced(n)
  n.doc.transact(() => {
    n.notes.set('node-1', note('node', 1))
    n.notes.set('node-2', note('node', 2))
    n.notes.set('contested', { text: 'node', author: 'node' })
  })
  log(`mixed: node wrote its notes; waiting for ${waitKeys.join(', ')}`)
  await waitFor(`keys ${waitKeys.join(', ')} from the other client`, () => hasKeys(n.json(), waitKeys), {
    describe: () => canonical(n.json())
  })
  // Let any trailing update land before reporting.
  await sleep(200)
  const result = { notes: n.json() }
  n.provider.destroy()
  return result
}

const SCENARIOS = {
  converge,
  'late-joiner': lateJoiner,
  offline,
  awareness,
  'awareness-vanish': awarenessVanish,
  mixed
}

// ---- main --------------------------------------------------------------------

async function main () {
  const [name, serverUrl, room, ...rest] = process.argv.slice(2)
  const scenario = SCENARIOS[name]
  if (!scenario || !serverUrl || !room) {
    fail(`usage: node scenario.mjs {${Object.keys(SCENARIOS).join('|')}} SERVER_URL ROOM [ARGS...]`)
  }
  const watchdog = setTimeout(() => {
    console.error(`[interop] FAIL: scenario ${name} did not finish within ${SCRIPT_MS / 1000} s`)
    process.exit(2)
  }, SCRIPT_MS)
  const started = Date.now()
  const result = await scenario(serverUrl, room, ...rest)
  clearTimeout(watchdog)
  const out = { scenario: name, room, ms: Date.now() - started, incidents, ...result }
  await new Promise((resolve) => process.stdout.write(JSON.stringify(out) + '\n', resolve))
  process.exit(0)
}

main().catch((err) => {
  const message = err instanceof ScenarioError ? err.message : (err?.stack ?? String(err))
  console.error(`[interop] FAIL: ${message}`)
  if (incidents.length) console.error(`[interop] incidents: ${incidentSummary()}`)
  process.exit(1)
})
