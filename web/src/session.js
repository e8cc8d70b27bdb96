// One live connection to a board: a Y.Doc kept in sync by y-websocket, started over
// with a fresh document when the server refuses a change (its copy would diverge forever).
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

// Close codes after which reconnecting the same document cannot help.
const REFUSED = new Set([4403, 4422]) // our document holds a change the server refused
const FATAL = {
  4400: 'This room name is not valid.',
  4401: 'This link is not valid any more (expired or revoked). Ask the facilitator for a new link.',
  4404: 'This board does not exist. Check the link with the facilitator.'
}

export function wsBase () {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
}

/** Whether a close means the facilitator revoked this token (the server says so in the reason). */
export const isRevoked = (code, reason) => code === 4401 && /revok/i.test(reason || '')

/**
 * Events: 'status' (connected|connecting|disconnected|closed), 'sync' (bool), 'refused' (reason),
 * 'reset' (doc) after a fresh start, 'fatal' ({code, reason, message}) after which the channel is
 * closed for good: it never reconnects by itself.
 */
export class Channel {
  constructor (room, token, { presence = null } = {}) {
    this.room = room
    this.token = token
    this.presence = presence
    this.listeners = new Map()
    this.status = 'connecting'
    this.synced = false
    this.destroyed = false
    this.refusals = []
    this._online = () => this.reconnectNow()
    window.addEventListener('online', this._online)
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
    this.doc = new Y.Doc()
    this.synced = false
    const provider = new WebsocketProvider(wsBase(), this.room, this.doc, {
      params: { token: this.token },
      disableBc: true, // another tab may hold another role's changes: only the server is trusted
      shouldReconnect: (event) => !(REFUSED.has(event.code) || event.code in FATAL)
    })
    this.provider = provider
    this.awareness = provider.awareness
    // Only the board connection shows who is here; the others stay invisible.
    this.awareness.setLocalState(this.presence || null)
    provider.on('status', ({ status }) => {
      if (provider !== this.provider) return
      this.status = status
      this.emit('status', status)
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
  }

  _closed (code, reason) {
    if (this.destroyed) return
    if (REFUSED.has(code)) {
      const now = Date.now()
      this.refusals = this.refusals.filter((t) => now - t < 10000).concat(now)
      this.emit('refused', reason || 'the server refused a change')
      if (this.refusals.length > 5) {
        this.emit('fatal', { code, reason, message: `The server keeps refusing changes: ${reason}` })
        this.destroy()
        return
      }
      this.restart()
    } else {
      this.status = 'closed'
      this.emit('status', 'closed')
      this.emit('fatal', { code, reason, message: FATAL[code] ? `${FATAL[code]} (${reason})` : reason })
      // Closed for good: no reconnect on the 'online' event or anything else.
      this.destroy()
    }
  }

  /** Drop the local copy and join again from what the server has. */
  restart () {
    const old = this.provider
    const oldDoc = this.doc
    this._open()
    old.destroy()
    oldDoc.destroy()
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
    provider.wsUnsuccessfulReconnects = 0
    if (!provider.ws) provider.connect()
  }

  destroy () {
    if (this.destroyed) return
    this.destroyed = true
    window.removeEventListener('online', this._online)
    this.provider.destroy()
    this.listeners.clear()
  }
}
