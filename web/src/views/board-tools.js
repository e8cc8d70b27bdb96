// A facilitator's tools on the board: the phase change that reveals private notes (asked first,
// with how many were written), the count of drafts in progress, and the board's export menu.
import { h, plural } from '../dom.js'
import { api, exportPath } from '../api.js'
import * as model from '../board-model.js'
import { confirmAction } from './confirm.js'
import { ROOM_AUDIENCES, exportGroup } from './exports.js'

const DRAFTS_POLL_MS = 5000

/** page: the board page (board channel, layer, meta(), room, token, claims); barOf(): the facilitator bar */
export function facilitatorTools (page, barOf) {
  const drafts = { count: null, timer: 0 }

  /** Moving on from collecting publishes every private draft: the facilitator confirms that first. */
  async function changePhase (phase) {
    const meta = page.meta()
    const leaving = (meta.phase || 'collect') === 'collect' && phase !== 'collect'
    const privateSections = model.readSections(page.board.doc).filter((s) => s.private_until_reveal)
    if (leaving && privateSections.length) {
      await pollDrafts() // the count as it is now, not as it was at the last poll
      const written = drafts.count === null ? '' : ` (${plural(drafts.count, 'note')} written so far)`
      const ok = await confirmAction({
        title: 'Reveal the private notes?',
        lines: [
          `Every private note in ${privateSections.map((s) => `“${s.title}”`).join(', ')} goes on the board for everyone in this room${written}.`,
          'This cannot be undone: a revealed note stays visible to the room.'
        ],
        confirm: phase === 'reveal' ? 'Reveal them now' : `Reveal them and move to ${model.PHASE_LABELS[phase]}`
      })
      if (!ok) return barOf().update(page.meta())
    }
    model.setMeta(page.board.doc, { phase })
  }

  /** How many private drafts are being written here (counts only, from the server), every few seconds. */
  async function pollDrafts () {
    clearTimeout(drafts.timer)
    if (page.fatal) return
    try {
      const { rooms } = await api.rooms(page.claims.e, page.token)
      const mine = rooms.find((r) => r.id === page.room)
      drafts.count = mine ? mine.drafts : null
      page.layer.setDrafts(mine?.phase === 'collect' ? mine.drafts_per_section || {} : {}, mine?.drafting || 0)
    } catch {
      // the figures come back with the next poll
    }
    drafts.timer = setTimeout(pollDrafts, DRAFTS_POLL_MS)
  }

  return { changePhase, pollDrafts }
}

/** The Export menu of one board: as it stands, or as it stood at the moment history shows. */
export function roomExportMenu ({ room, token, historyView }) {
  const roomExport = exportGroup({
    legend: 'Download this board',
    audiences: ROOM_AUDIENCES,
    token,
    path: (format, audience) => exportPath.room(room, format, { audience, at: historyView.isOpen ? historyView.seq : null })
  })
  const menu = h('details', { class: 'export-menu' }, h('summary', {}, 'Export'), h('div', { class: 'popover' }, roomExport.el))
  menu.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !menu.open) return
    event.preventDefault()
    menu.open = false
    menu.querySelector('summary').focus()
  })
  menu.addEventListener('toggle', () => {
    if (menu.open) roomExport.setLegend(historyView.isOpen ? `Download this board as it stood after change ${historyView.seq}` : 'Download this board as it stands now')
  })
  return menu
}
