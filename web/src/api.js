// The HTTP API (schemas/openapi.json), token claims, and what this browser remembers per event.

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

async function call (method, path, { body, token } = {}) {
  const headers = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  let response
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.')
  }
  const data = await response.json().catch(() => ({}))
  if (!response.ok) {
    throw new ApiError(response.status, data.error?.code || 'http_error', data.error?.message || `The server answered ${response.status}`)
  }
  return data
}

const enc = encodeURIComponent

export const api = {
  /** What the server asks of its users: {create_token_required, retain_days, retention}. */
  info: () => call('GET', '/api/info'),
  templates: () => call('GET', '/api/templates'),
  /** The event a six-letter join code belongs to (its public side: id, title, agreement). */
  findByCode: (code) => call('GET', `/api/join/${enc(code)}`),
  /** `createToken`: the server's creation token, when it asks for one (`candor serve --create-token`). */
  createEvent: (title, template, rooms, createToken = null) =>
    call('POST', '/api/events', { body: { title, template, rooms }, token: createToken || undefined }),
  /** Erase the event and everything in it from the server, for good (facilitator). */
  eraseEvent: (eventId, token) => call('DELETE', `/api/events/${enc(eventId)}`, { token }),
  joinInfo: (eventId, code) => call('GET', `/api/events/${encodeURIComponent(eventId)}/join?code=${encodeURIComponent(code)}`),
  join: (eventId, code, name) => call('POST', `/api/events/${encodeURIComponent(eventId)}/join`, {
    body: name ? { code, agree: true, name } : { code, agree: true }
  }),
  event: (eventId, token) => call('GET', `/api/events/${encodeURIComponent(eventId)}`, { token }),
  rooms: (eventId, token) => call('GET', `/api/events/${encodeURIComponent(eventId)}/rooms`, { token }),
  addRoom: (eventId, token, label) => call('POST', `/api/events/${encodeURIComponent(eventId)}/rooms`, { token, body: label ? { label } : {} }),
  renameRoom: (eventId, token, roomId, label) =>
    call('PATCH', `/api/events/${encodeURIComponent(eventId)}/rooms/${encodeURIComponent(roomId)}`, { token, body: { label } }),
  broadcast: (eventId, token, fields) => call('POST', `/api/events/${encodeURIComponent(eventId)}/broadcast`, { token, body: fields }),
  /** Copies (or moves) notes [{room, note}] to the plenary: the server makes the copies, {copied, skipped}. */
  plenary: (eventId, token, notes, move = false) =>
    call('POST', `/api/events/${enc(eventId)}/plenary`, { token, body: { notes, move } }),
  /** A new join code; every participant token stops working (connected participants are closed with 4401). */
  revoke: (eventId, token) => call('POST', `/api/events/${enc(eventId)}/revoke`, { token }),
  /** Whether the links reach other devices: {base_url, loopback_only, open_command}. */
  reach: () => call('GET', '/api/reach'),
  /** Per breakout room, the notes shared beyond it, most votes first. */
  ideas: (eventId, token, perRoom = 5) => call('GET', `/api/events/${enc(eventId)}/ideas?per_room=${perRoom}`, { token }),
  /** Erase the text of the room's withdrawn notes everywhere in storage. */
  purge: (roomId, token) => call('POST', `/api/rooms/${enc(roomId)}/purge`, { token }),
  /** The board now, or as it stood after seq `at` (a number) or at an ISO time. */
  board: (roomId, token, at = null) =>
    call('GET', `/api/rooms/${enc(roomId)}/board${at === null || at === undefined ? '' : `?at=${enc(String(at))}`}`, { token }),
  /** What the facilitator told about the event for its exports (schemas/event-details.schema.json). */
  details: async (eventId, token) => (await call('GET', `/api/events/${enc(eventId)}/details`, { token })).details,
  saveDetails: async (eventId, token, details) =>
    (await call('PUT', `/api/events/${enc(eventId)}/details`, { token, body: details })).details,
  /** One page of the room's timeline: {events, next}. */
  history: (roomId, token, after = 0, limit = 1000) =>
    call('GET', `/api/rooms/${enc(roomId)}/history?after=${after}&limit=${limit}`, { token })
}

function query (fields) {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(fields)) if (value !== null && value !== undefined && value !== '') params.set(key, String(value))
  return params.toString()
}

/** Where an export is made; the token goes in the Authorization header, never in this URL. */
export const exportPath = {
  room: (roomId, format, { audience = null, at = null } = {}) => `/api/rooms/${enc(roomId)}/export?${query({ format, audience, at })}`,
  event: (eventId, format, { audience = null, at = null } = {}) => `/api/events/${enc(eventId)}/export?${query({ format, audience, at })}`
}

/** `attachment; filename="x.md"` (or filename*=UTF-8''…) -> x.md */
export function filenameOf (disposition) {
  if (!disposition) return null
  const extended = disposition.match(/filename\*\s*=\s*(?:UTF-8'[^']*')?([^;]+)/i)
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim().replace(/^"|"$/g, ''))
    } catch {
      // fall back to the plain filename
    }
  }
  const plain = disposition.match(/filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i)
  const name = plain && (plain[1] ?? plain[2]).trim()
  return name ? name.replace(/[\\/]/g, '_') : null
}

/** A file the server makes (an export), fetched with the token as a bearer header: {blob, filename, type}. */
export async function fetchFile (path, token) {
  let response
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' })
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.')
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}))
    throw new ApiError(response.status, data.error?.code || 'http_error', data.error?.message || `The server answered ${response.status}`)
  }
  const blob = await response.blob()
  return { blob, filename: filenameOf(response.headers.get('Content-Disposition')), type: response.headers.get('Content-Type') || blob.type }
}

/** The token's middle part: its signed (not secret) claims {e, r, s, n, x}. */
export function claimsOf (token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(part + '='.repeat((4 - part.length % 4) % 4)), (c) => c.charCodeAt(0))
    const json = new TextDecoder().decode(bytes)
    const claims = JSON.parse(json)
    return claims && typeof claims.r === 'string' ? claims : null
  } catch {
    return null
  }
}

export function isExpired (claims, nowS = Date.now() / 1000) {
  return !claims || (typeof claims.x === 'number' && claims.x < nowS)
}

/** Room ids are `{event}-r{n}` or `{event}-plenary`; drafts rooms add `~{participant}`. */
export function eventOfRoom (roomId) {
  return roomId.split('~')[0].split('-')[0]
}

// -- remembered per event, in this browser only ------------------------------------------

const KEY = 'candor.v1'

function load () {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {}
  } catch {
    return {}
  }
}

function save (data) {
  try {
    localStorage.setItem(KEY, JSON.stringify(data))
  } catch {
    // Private browsing may refuse storage: links in the address bar still work.
  }
}

export const memory = {
  /** A participant token kept so the board URL does not need to carry it. */
  participant (eventId) {
    const entry = load().participants?.[eventId]
    return entry && !isExpired(claimsOf(entry.token)) ? entry : null
  },
  rememberParticipant (eventId, entry) {
    const data = load()
    data.participants = { ...data.participants, [eventId]: entry }
    save(data)
  },
  /** What creating an event returned (links, code), for the facilitator's dashboard. */
  created (eventId) {
    return load().created?.[eventId] || null
  },
  allCreated () {
    return Object.values(load().created || {}).sort((a, b) => (b.created_ms || 0) - (a.created_ms || 0))
  },
  rememberCreated (eventId, created) {
    const data = load()
    data.created = { ...data.created, [eventId]: created }
    save(data)
  },
  /** Forget everything this browser kept about an event (after it was erased). */
  forgetEvent (eventId) {
    const data = load()
    if (data.created) delete data.created[eventId]
    if (data.participants) delete data.participants[eventId]
    save(data)
  },
  preferences () {
    return load().preferences || {}
  },
  rememberPreferences (prefs) {
    const data = load()
    data.preferences = { ...data.preferences, ...prefs }
    save(data)
  }
}
