// One live connection to a board: a Y.Doc kept in sync by y-websocket, started over
// with a fresh document when the server refuses a change (its copy would diverge forever).
// With `persist`, the document is also kept in this browser (y-indexeddb), so changes made
// offline survive a closed tab and are sent when the board is opened again.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'

// Close codes after which reconnecting the same document cannot help.
const REFUSED = new Set([4403, 4422]) // our document holds a change the server refused
const FATAL = {
  4400: 'This room name is not valid.',
  4401: 'This link is not valid any more (expired or revoked). Ask the facilitator for a new link.',
  4404: 'This board does not exist. Check the link with the facilitator.'
}
// The server answers a sync request every RESYNC_MS; silence for SILENT_MS means the
// connection is gone even when the browser has not noticed (a dropped Wi-Fi keeps sockets "open").
const RESYNC_MS = 1500
const SILENT_MS = 3200
const WATCH_MS = 250

export function wsBase () {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
}

/** Whether a close means the facilitator revoked this token (the server says so in the reason). */
export const isRevoked = (code, reason) => code === 4401 && /revok/i.test(reason || '')

/** The name this browser keeps a board under: one per room and person, so roles never mix. */
export const storeName = (room, subject) => `candor:${room}:${subject}`

/**
 * Events: 'status' (connected|connecting|disconnected|closed), 'sync' (bool), 'refused' (reason),
 * 'reset' (doc) after a fresh start, 'fatal' ({code, reason, message}) after which the channel is
 * closed for good: it never reconnects by itself.
 */
export class Channel {
  /** presence: awareness state to show; persist: the person's pseudonym to keep the board under, or null */
  constructor (room, token, { presence = null, persist = null } = {}) {
    this.room = room
    this.token = token
    this.presence = presence
    this.persist = persist
    this.listeners = new Map()
    this.status = 'connecting'
    this.synced = false
    this.destroyed = false
    this.refusals = []
    this.heardAt = 0
    this.lost = false // the connection dropped and no answer came since
    this._online = () => this.reconnectNow()
    window.addEventListener('online', this._online)
    this._watch = setInterval(() => this._checkSilence(), WATCH_MS)
    this._open()
  }

  on (name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set())
    this.listeners.get(name).add(fn)
    return () => this.listeners.get(name).delete(fn)
  }

  emit (name, ...args) {
    for (const fn of this.listeners.get(name) || []) fn(...args)
  }

  _open () {
    const doc = new Y.Doc()
    this.doc = doc
    this.synced = false
    const provider = new WebsocketProvider(wsBase(), this.room, doc, {
      connect: false,
      params: { token: this.token },
      disableBc: true, // another tab may hold another role's changes: only the server is trusted
      resyncInterval: RESYNC_MS,
      shouldReconnect: (event) => !(REFUSED.has(event.code) || event.code in FATAL)
    })
    this.provider = provider
    this.awareness = provider.awareness
    // Only the board connection shows who is here; the others stay invisible.
    this.awareness.setLocalState(this.presence || null)
    // Anything the server sends is applied in a transaction whose origin is the provider.
    // "Connected" only once the server answered on this socket: an open socket proves nothing.
    doc.on('afterTransaction', (transaction) => {
      if (transaction.origin !== provider) return
      this.heardAt = Date.now()
      if (provider.wsconnected) {
        this.lost = false
        this._setStatus('connected')
      }
    })
    provider.on('status', ({ status }) => {
      if (provider !== this.provider) return
      if (status === 'connected') {
        this.heardAt = Date.now() // the clock for an answer starts now
        return
      }
      if (status === 'disconnected') this.lost = true
      this._setStatus(this.lost ? 'disconnected' : status)
    })
    provider.on('sync', (synced) => {
      if (provider !== this.provider) return
      this.synced = synced
      this.emit('sync', synced)
    })
    provider.on('closed', ({ code, reason }) => {
      if (provider !== this.provider) return
      // Let y-websocket finish its close handling before we replace the provider.
      setTimeout(() => this._closed(code, reason), 0)
    })
    this.persistence = null
    if (this.persist) {
      // Connect once what this browser kept is loaded, so only the difference travels.
      const persistence = new IndexeddbPersistence(storeName(this.room, this.persist), doc)
      this.persistence = persistence
      persistence.whenSynced.then(() => {
        if (provider === this.provider && !this.destroyed) provider.connect()
      }, () => {
        if (provider === this.provider && !this.destroyed) provider.connect()
      })
    } else {
      provider.connect()
    }
  }

  _setStatus (status) {
    if (status === this.status) return
    this.status = status
    this.emit('status', status)
  }

  /** A connection the server stopped answering is closed and opened again (y-websocket only notices after 30 s). */
  _checkSilence () {
    const provider = this.provider
    if (this.destroyed || !provider?.wsconnected || Date.now() - this.heardAt < SILENT_MS) return
    this.lost = true
    this._setStatus('disconnected')
    provider.disconnect()
    provider.connect()
  }

  async _closed (code, reason) {
    if (this.destroyed) return
    if (REFUSED.has(code)) {
      const now = Date.now()
      this.refusals = this.refusals.filter((t) => now - t < 10000).concat(now)
      this.emit('refused', reason || 'the server refused a change')
      if (this.refusals.length > 5) {
        this.emit('fatal', { code, reason, message: `The server keeps refusing changes: ${reason}` })
        this.destroy({ forget: true })
        return
      }
      await this.restart()
    } else {
      this._setStatus('closed')
      this.emit('fatal', { code, reason, message: FATAL[code] ? `${FATAL[code]} (${reason})` : reason })
      // Closed for good: no reconnect on the 'online' event or anything else; nothing kept here can be sent.
      this.destroy({ forget: true })
    }
  }

  /** Drop the local copy (and what this browser kept of it) and join again from what the server has. */
  async restart () {
    const old = this.provider
    const oldDoc = this.doc
    const kept = this.persistence
    old.destroy()
    // The refused change is in the kept copy too: loading it again would be refused again.
    if (kept) await kept.clearData().catch(() => {})
    oldDoc.destroy()
    if (this.destroyed) return
    this._open()
    this.emit('reset', this.doc)
  }

  setPresence (fields) {
    this.presence = { ...(this.presence || {}), ...fields }
    this.awareness.setLocalState(this.presence)
  }

  setPresenceField (key, value) {
    if (!this.presence) this.presence = {}
    this.presence[key] = value
    this.awareness.setLocalStateField(key, value)
  }

  /** Resolves once the document is in sync with the server. */
  whenSynced () {
    if (this.synced) return Promise.resolve()
    return new Promise((resolve) => {
      const off = this.on('sync', (synced) => { if (synced) { off(); resolve() } })
    })
  }

  reconnectNow () {
    const provider = this.provider
    if (this.destroyed || !provider || provider.wsconnected) return
    provider.connect()
  }

  destroy ({ forget = false } = {}) {
    if (this.destroyed) return
    this.destroyed = true
    clearInterval(this._watch)
    window.removeEventListener('online', this._online)
    this.provider.destroy()
    if (forget && this.persistence) this.persistence.clearData().catch(() => {})
    this.listeners.clear()
  }
}
