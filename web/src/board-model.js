// The board document (schemas/board.md) as plain operations over its Yjs types.
// Every write here follows the server's rules: one transaction per action, whole notes as Y.Maps.
import * as Y from 'yjs'

export const PHASES = ['collect', 'reveal', 'cluster', 'vote', 'done']
export const PHASE_LABELS = {
  collect: 'Collect',
  reveal: 'Reveal',
  cluster: 'Cluster',
  vote: 'Vote',
  done: 'Done'
}
export const PHASE_HELP = {
  collect: 'Add your notes. Notes in private sections stay private until the facilitator reveals them.',
  reveal: 'Private notes are now on the board for everyone in the room.',
  cluster: 'The facilitator is grouping similar notes.',
  vote: 'Give your dots to the notes that matter most to you.',
  done: 'This board is finished. Results are sorted by votes.'
}
export const COLOURS = ['yellow', 'pink', 'blue', 'green', 'orange', 'purple']
export const SCOPES = [
  { id: 'room', label: 'This room only', help: 'never leaves this room' },
  { id: 'event', label: 'Whole event', help: 'may go to the plenary and event outputs' },
  { id: 'public', label: 'Public', help: 'may also appear in public outputs' }
]
export const NOTE_WIDTH = 176
export const NOTE_GAP = 12

export const roots = (doc) => ({
  meta: doc.getMap('meta'),
  sections: doc.getArray('sections'),
  notes: doc.getMap('notes'),
  clusters: doc.getMap('clusters'),
  votes: doc.getMap('votes')
})

export function newId (prefix = 'n') {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  return prefix + '-' + Date.now().toString(36) + Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 10)
}

export const readMeta = (doc) => doc.getMap('meta').toJSON()
export const readSections = (doc) => doc.getArray('sections').toArray().filter((s) => s && typeof s.id === 'string')

/** A note's fields as plain values, or null when the entry is not a well-formed note. */
export function readNote (value) {
  const note = value instanceof Y.Map ? value.toJSON() : null
  return note && typeof note.text === 'string' && typeof note.section === 'string' ? note : null
}

export function readCluster (value) {
  const cluster = value instanceof Y.Map ? value.toJSON() : null
  return cluster && typeof cluster.section === 'string' ? cluster : null
}

// -- reading a board for display --------------------------------------------------------

/**
 * What the notes layer reads to draw a board: sections, notes, clusters and vote tallies.
 * `docReader` reads the live Y.Doc; `jsonReader` reads the board JSON the server rebuilt for a
 * past moment (GET /api/rooms/{room}/board?at=…), so history is drawn by the same code, read-only.
 */
export function docReader (doc) {
  return {
    sections: () => readSections(doc),
    noteIds: () => [...doc.getMap('notes').keys()],
    note: (id) => readNote(doc.getMap('notes').get(id)),
    clusterIds: () => [...doc.getMap('clusters').keys()],
    cluster: (id) => readCluster(doc.getMap('clusters').get(id)),
    tally: (id, me) => tallyOf(doc, id, me)
  }
}

const isRecord = (value) => value !== null && typeof value === 'object' && !Array.isArray(value)
const own = (object, key) => (isRecord(object) && Object.hasOwn(object, key) ? object[key] : undefined)

export function jsonReader (board) {
  const notes = isRecord(board?.notes) ? board.notes : {}
  const clusters = isRecord(board?.clusters) ? board.clusters : {}
  const votes = isRecord(board?.votes) ? board.votes : {}
  const sections = Array.isArray(board?.sections) ? board.sections.filter((s) => isRecord(s) && typeof s.id === 'string') : []
  return {
    sections: () => sections,
    noteIds: () => Object.keys(notes),
    note (id) {
      const note = own(notes, id)
      return isRecord(note) && typeof note.text === 'string' && typeof note.section === 'string' ? note : null
    },
    clusterIds: () => Object.keys(clusters),
    cluster (id) {
      const cluster = own(clusters, id)
      return isRecord(cluster) && typeof cluster.section === 'string' ? cluster : null
    },
    tally (id, me) {
      const ballot = own(votes, id)
      let total = carriedOf(own(notes, id))
      if (isRecord(ballot)) for (const count of Object.values(ballot)) total += typeof count === 'number' ? count : 0
      const mine = me ? own(ballot, me) : undefined
      return { total, mine: typeof mine === 'number' ? mine : 0 }
    }
  }
}

/** Where the n-th note of a section goes when it has no place yet: a grid that fits `width`. */
export function freeSlot (count, width) {
  const step = NOTE_WIDTH + NOTE_GAP
  const columns = Math.max(1, Math.floor((width - NOTE_GAP) / step))
  return { x: NOTE_GAP + (count % columns) * step, y: NOTE_GAP + Math.floor(count / columns) * 150 }
}

// -- notes ------------------------------------------------------------------------------

export function addNote (doc, fields) {
  const id = newId('n')
  const note = {
    section: fields.section,
    text: fields.text,
    colour: fields.colour || 'yellow',
    x: Math.round(fields.x || 0),
    y: Math.round(fields.y || 0),
    author: fields.author,
    author_name: fields.author_name ?? null,
    cluster: null,
    scope: fields.scope || 'room',
    created_ms: Date.now(),
    from_room: fields.from_room ?? null
  }
  doc.getMap('notes').set(id, new Y.Map(Object.entries(note)))
  return id
}

/** Set only the fields that differ, in one transaction. */
export function updateNote (doc, id, patch) {
  const note = doc.getMap('notes').get(id)
  if (!(note instanceof Y.Map)) return false
  doc.transact(() => {
    for (const [key, value] of Object.entries(patch)) {
      if (note.get(key) !== value) note.set(key, value)
    }
  })
  return true
}

export const moveNote = (doc, id, x, y) => updateNote(doc, id, { x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)) })

export function deleteNote (doc, id) {
  const notes = doc.getMap('notes')
  const note = readNote(notes.get(id))
  if (note) notes.delete(id)
  return note
}

/** Put a deleted note back (Undo): the same fields under the same id. */
export function restoreNote (doc, id, note) {
  doc.getMap('notes').set(id, new Y.Map(Object.entries(note)))
}

// -- facilitator ------------------------------------------------------------------------

export function setMeta (doc, patch) {
  const meta = doc.getMap('meta')
  doc.transact(() => {
    for (const [key, value] of Object.entries(patch)) meta.set(key, value)
    // Open a ballot for every note as voting starts, so participants only ever add their
    // own key to an existing ballot (two people creating the same ballot would collide).
    if (patch.phase === 'vote') openBallots(doc)
  })
}

export function openBallots (doc) {
  const votes = doc.getMap('votes')
  for (const id of doc.getMap('notes').keys()) {
    if (!votes.has(id)) votes.set(id, new Y.Map())
  }
}

export function startTimer (doc, durationS) {
  setMeta(doc, { timer: { ends_at_ms: Date.now() + durationS * 1000, duration_s: durationS } })
}

export function createCluster (doc, section, label, x, y) {
  const id = newId('c')
  doc.getMap('clusters').set(id, new Y.Map(Object.entries({ section, label, x: Math.round(x), y: Math.round(y) })))
  return id
}

export function updateCluster (doc, id, patch) {
  const cluster = doc.getMap('clusters').get(id)
  if (!(cluster instanceof Y.Map)) return
  doc.transact(() => {
    for (const [key, value] of Object.entries(patch)) {
      if (cluster.get(key) !== value) cluster.set(key, typeof value === 'number' ? Math.round(value) : value)
    }
  })
}

export function deleteCluster (doc, id) {
  const notes = doc.getMap('notes')
  doc.transact(() => {
    notes.forEach((note) => {
      if (note instanceof Y.Map && note.get('cluster') === id) note.set('cluster', null)
    })
    doc.getMap('clusters').delete(id)
  })
}

// -- votes ------------------------------------------------------------------------------

/** The dots a plenary copy brought from its room (the server writes them when it copies). */
export function carriedOf (note) {
  const carried = note instanceof Y.Map ? note.get('carried_votes') : note?.carried_votes
  return typeof carried === 'number' && carried > 0 ? carried : 0
}

/** {total, mine} per note id, and how many dots `me` has spent. */
export function tallies (doc, me) {
  const perNote = new Map()
  let spent = 0
  doc.getMap('votes').forEach((ballot, noteId) => {
    if (!(ballot instanceof Y.Map)) return
    let total = 0
    ballot.forEach((count) => { total += typeof count === 'number' ? count : 0 })
    const mine = typeof ballot.get(me) === 'number' ? ballot.get(me) : 0
    spent += mine
    perNote.set(noteId, { total, mine })
  })
  doc.getMap('notes').forEach((note, noteId) => {
    const carried = carriedOf(note)
    if (!carried) return
    const tally = perNote.get(noteId) || { total: 0, mine: 0 }
    perNote.set(noteId, { ...tally, total: tally.total + carried })
  })
  return { perNote, spent }
}

export function tallyOf (doc, noteId, me) {
  const ballot = doc.getMap('votes').get(noteId)
  const carried = carriedOf(doc.getMap('notes').get(noteId))
  if (!(ballot instanceof Y.Map)) return { total: carried, mine: 0 }
  let total = carried
  ballot.forEach((count) => { total += typeof count === 'number' ? count : 0 })
  return { total, mine: typeof ballot.get(me) === 'number' ? ballot.get(me) : 0 }
}

/** Add (delta 1) or take back (delta -1) one of my dots; false when the budget or count forbids it. */
export function vote (doc, noteId, me, delta, budget) {
  const votes = doc.getMap('votes')
  const { spent } = tallies(doc, me)
  const ballot = votes.get(noteId)
  const mine = ballot instanceof Y.Map && typeof ballot.get(me) === 'number' ? ballot.get(me) : 0
  const next = mine + delta
  if (next < 0 || (delta > 0 && spent + delta > budget)) return false
  doc.transact(() => {
    if (ballot instanceof Y.Map) {
      if (next === 0) ballot.delete(me)
      else ballot.set(me, next)
    } else if (next > 0) {
      votes.set(noteId, new Y.Map([[me, next]]))
    }
  })
  return true
}
