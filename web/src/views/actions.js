// What each board action does to the documents, with the role and lock rules checked first
// so people get a clear message instead of a refused change.
import { announce, toast } from '../dom.js'
import { api } from '../api.js'
import * as model from '../board-model.js'

/** board: the BoardPage (board, drafts channels, layer, meta(), role, me, room, token, …) */
export function boardActions (page) {
  const { layer } = page
  const docFor = (id) => (layer.notes.get(id)?.source === 'draft' ? page.drafts?.doc : page.board.doc)
  const blocked = () => {
    if (page.fatal) return page.fatal
    if (page.readOnly) return 'The projector view is read-only.'
    if (page.role === 'participant' && page.meta().locked) return 'The board is locked by the facilitator.'
    return null
  }
  const guard = () => {
    const reason = blocked()
    if (reason) toast(reason)
    return Boolean(reason)
  }

  const acts = {
    add (sectionId) {
      if (page.meta().phase === 'done') return toast('The board is finished: no new notes now.')
      if (!guard()) page.openComposer(sectionId)
    },
    withdraw (id) {
      const view = layer.notes.get(id)
      if (!view?.mine || view.source !== 'board' || guard()) return
      model.updateNote(page.board.doc, id, { withdrawn: true })
      toast('Note withdrawn: it is off the board and out of every export. The facilitator can now erase its text for good.', {
        action: { label: 'Undo', run: () => { if (!blocked()) model.updateNote(page.board.doc, id, { withdrawn: false }) } }
      })
      page.focusSection(view.data.section)
    },
    restore (id) {
      const view = layer.notes.get(id)
      if (view?.mine && !guard()) model.updateNote(page.board.doc, id, { withdrawn: false })
    },
    edit (id) {
      const view = layer.notes.get(id)
      if (view?.mine && !guard()) page.openComposer(view.data.section, { id, ...view.data })
    },
    delete (id) {
      const view = layer.notes.get(id)
      if (!view?.mine || guard()) return
      const doc = docFor(id)
      const note = model.deleteNote(doc, id)
      if (note) {
        toast('Note deleted.', { action: { label: 'Undo', run: () => { if (!blocked()) model.restoreNote(doc, id, note) } } })
        page.focusSection(note.section)
      }
    },
    more (id) {
      const view = layer.notes.get(id)
      if (view && page.role === 'facilitator') page.noteDialog.open(id, view.data)
    },
    vote (id) { castVote(id, 1) },
    unvote (id) { castVote(id, -1) },
    move (id, x, y) {
      const view = layer.notes.get(id)
      if (view && !guard()) model.moveNote(docFor(id), id, x, y)
    },
    'cluster-new' (sectionId) {
      // Below everything already in the section, judged from the board (not this screen's layout).
      let y = model.NOTE_GAP
      for (const view of layer.notes.values()) {
        if (view.data.section === sectionId && !view.data.cluster) y = Math.max(y, (view.data.y || 0) + 190)
      }
      for (const view of layer.clusters.values()) {
        if (view.data.section === sectionId) y = Math.max(y, (view.data.y || 0) + view.el.offsetHeight + 24)
      }
      const id = model.createCluster(page.board.doc, sectionId, '', model.NOTE_GAP, y)
      layer.clusters.get(id)?.input?.focus()
      announce('New cluster added. Type its label, then drag notes into it or use a note’s More button.')
    },
    'cluster-rename' (clusterId, label) { model.updateCluster(page.board.doc, clusterId, { label }) },
    'cluster-move' (clusterId, x, y) { model.updateCluster(page.board.doc, clusterId, { x, y }) },
    'cluster-delete' (clusterId) { model.deleteCluster(page.board.doc, clusterId) },
    'cluster-set' (id, clusterId) {
      model.updateNote(page.board.doc, id, { cluster: clusterId })
      const label = layer.clusters.get(clusterId)?.data.label
      announce(`Note added to cluster ${label || 'Untitled cluster'}.`)
    },
    'cluster-unset' (id, x, y) {
      model.updateNote(page.board.doc, id, { cluster: null, x: Math.round(x), y: Math.round(y) })
    }
  }

  function castVote (id, delta) {
    const meta = page.meta()
    if (page.role !== 'participant' || layer.notes.get(id)?.source !== 'board') return
    if (meta.phase !== 'vote') return toast('Voting opens when the facilitator starts the vote phase.')
    if (guard()) return
    const budget = Number(meta.votes_per_person ?? 5)
    if (!model.vote(page.board.doc, id, page.me, delta, budget)) {
      toast(delta > 0 ? `You have used all ${budget} of your dots. Take one back to move it.` : 'You have no dots on this note.')
    }
  }

  /** Ask the server to copy a note to the plenary (its authorship, room and votes carried); optionally remove it here. */
  async function toPlenary (id, { move }) {
    const view = layer.notes.get(id)
    const note = view?.data
    if (!note) throw new Error('the note is gone')
    if (note.scope !== 'event' && note.scope !== 'public') throw new Error('its author kept it in this room')
    const result = await api.plenary(page.claims.e, page.token, [{ room: page.room, note: id }], move)
    if (!result.copied.length) throw new Error('the plenary did not take it (is it still shared with the event, or there already?)')
    announce(move ? 'Note moved to the plenary, with its votes.' : 'Note copied to the plenary, with its votes.')
  }

  return { act: (name, ...args) => acts[name]?.(...args), toPlenary, docFor, blocked }
}
