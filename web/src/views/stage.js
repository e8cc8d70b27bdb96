// What the projector shows, made for a hall: one view (the whole board, one section, one cluster or
// the results) in columns that fill the screen, at the largest type that fits, and in pages when
// even the smallest allowed type does not fit.
import { h, plural, replace } from '../dom.js'
import { readCluster, readNote, readSections, tallies } from '../board-model.js'

// Note text never goes below MIN_PX (readable from the back of a hall at 1920x1080).
export const MIN_PX = 24
const MAX_PX = 56
const SCOPE_WORDS = { room: 'This room only', event: 'Whole event', public: 'Public' }

/** Whether a note may be on this screen: withdrawn never; kept in its room only on that room's own screen. */
export function showable (note, { ownRoom }) {
  if (!note || note.withdrawn) return false
  return ownRoom || note.scope === 'event' || note.scope === 'public'
}

/**
 * view: {view: 'board'|'section'|'cluster'|'results', id}; ctx: {ownRoom, roomLabel(id), hideTotals}
 * Returns {title, blocks} where blocks are DOM nodes for the flowing columns.
 */
export function buildView (doc, view, ctx) {
  const sections = readSections(doc)
  const notes = []
  doc.getMap('notes').forEach((value, id) => {
    const note = readNote(value)
    if (showable(note, ctx)) notes.push({ id, ...note })
  })
  notes.sort((a, b) => (a.created_ms || 0) - (b.created_ms || 0))
  const clusters = new Map()
  doc.getMap('clusters').forEach((value, id) => {
    const cluster = readCluster(value)
    if (cluster) clusters.set(id, { id, ...cluster })
  })
  const { perNote } = tallies(doc, null)
  const total = (id) => perNote.get(id)?.total || 0
  const card = (note) => h('article', { class: `note c-${note.colour || 'yellow'}`, 'data-id': note.id },
    h('p', { class: 'note-text', text: note.text }),
    h('p', { class: 'note-by' },
      note.author_name || 'Anonymous',
      note.from_room ? ` · From ${ctx.roomLabel(note.from_room)}` : '',
      ctx.hideTotals || !total(note.id) ? '' : ` · ${plural(total(note.id), 'vote')}`))

  if (view.view === 'results') return results(notes, sections, total, ctx)
  if (view.view === 'cluster' && clusters.has(view.id)) {
    const cluster = clusters.get(view.id)
    const inside = notes.filter((n) => n.cluster === cluster.id && n.section === cluster.section)
    const section = sections.find((s) => s.id === cluster.section)
    return {
      title: cluster.label || 'Untitled cluster',
      subtitle: section ? `A cluster in “${section.title}” · ${plural(inside.length, 'note')}` : '',
      blocks: inside.length ? inside.map(card) : [empty('No notes in this cluster yet.')]
    }
  }
  const chosen = view.view === 'section' ? sections.filter((s) => s.id === view.id) : sections
  const blocks = []
  for (const section of chosen) {
    const own = notes.filter((n) => n.section === section.id)
    if (!own.length && view.view !== 'section') continue // an empty section takes no space on the screen
    const grouped = [...clusters.values()].filter((c) => c.section === section.id)
    const loose = own.filter((n) => !n.cluster || !clusters.has(n.cluster) || clusters.get(n.cluster).section !== section.id)
    blocks.push(h('section', { class: 'section', 'data-section': section.id },
      view.view === 'section' ? null : h('h2', { class: 'section-title', text: section.title }),
      grouped.map((c) => {
        const inside = own.filter((n) => n.cluster === c.id)
        return inside.length
          ? h('div', { class: 'cluster', 'data-cluster': c.id },
            h('h3', { class: 'cluster-title', text: `${c.label || 'Untitled cluster'} (${inside.length})` }), inside.map(card))
          : null
      }),
      loose.map(card),
      own.length ? null : empty('No notes in this section yet.')))
  }
  const section = view.view === 'section' ? chosen[0] : null
  return {
    title: section ? section.title : null,
    subtitle: section ? (section.prompts || []).join(' ') : '',
    blocks: blocks.length ? blocks : [empty('Notes appear here as people write them.')]
  }
}

function empty (text) {
  return h('p', { class: 'stage-empty', text })
}

function results (notes, sections, total, ctx) {
  if (ctx.hideTotals) {
    return {
      title: 'Results',
      subtitle: '',
      blocks: [empty('Voting is under way: the totals appear here when the facilitator closes the vote.')]
    }
  }
  const voted = notes.filter((n) => total(n.id) > 0).sort((a, b) => total(b.id) - total(a.id) || (a.created_ms || 0) - (b.created_ms || 0))
  const title = (id) => sections.find((s) => s.id === id)?.title || ''
  return {
    title: 'Results: notes by votes',
    subtitle: voted.length ? `${plural(voted.length, 'note')} received votes` : '',
    blocks: voted.length
      ? [h('ol', { class: 'results-list' }, voted.map((n, i) => h('li', { class: `result note c-${n.colour || 'yellow'}`, 'data-id': n.id },
          h('p', { class: 'note-text' }, h('strong', { text: `${i + 1}. ${plural(total(n.id), 'vote')} · ` }), n.text),
          h('p', { class: 'note-by', text: `${title(n.section)}${n.from_room ? ` · From ${ctx.roomLabel(n.from_room)}` : ''}` }))))]
      : [empty('No votes yet.')]
  }
}

/** The columns area: fits its content to the screen (largest type that fits), else pages it. */
export class Stage {
  constructor () {
    this.flow = h('div', { class: 'flowing' })
    this.el = h('div', { class: 'projector-stage' }, this.flow)
    this.pages = 1
    this.page = 0
    this.fontPx = MIN_PX
  }

  show (blocks) {
    replace(this.flow, ...blocks)
    this.fit()
  }

  overflows () {
    return this.flow.scrollWidth > this.flow.clientWidth + 1 || this.flow.scrollHeight > this.flow.clientHeight + 1
  }

  /** Largest type (MIN_PX..MAX_PX) at which everything fits one screen; pages when even MIN_PX does not. */
  fit () {
    this.flow.style.transform = ''
    let lo = MIN_PX
    let hi = MAX_PX
    this.flow.style.fontSize = `${hi}px`
    if (this.overflows()) {
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2)
        this.flow.style.fontSize = `${mid}px`
        if (this.overflows()) hi = mid
        else lo = mid
      }
    } else {
      lo = hi
    }
    this.fontPx = lo
    this.flow.style.fontSize = `${lo}px`
    const gap = parseFloat(getComputedStyle(this.flow).columnGap) || 0
    const stride = this.flow.clientWidth + gap
    this.pages = Math.max(1, Math.ceil((this.flow.scrollWidth + gap - 1) / stride))
    this.turnTo(this.page)
  }

  turnTo (page) {
    this.page = Math.min(Math.max(0, page), this.pages - 1)
    const gap = parseFloat(getComputedStyle(this.flow).columnGap) || 0
    const shift = this.page * (this.flow.clientWidth + gap)
    this.flow.style.transform = shift ? `translateX(${-shift}px)` : ''
    // Notes on other pages are off the screen: keep them out of reach of keyboard and screen readers too.
    const left = this.el.getBoundingClientRect().left
    for (const note of this.flow.querySelectorAll('.note')) {
      const x = note.getBoundingClientRect().left - left
      note.toggleAttribute('inert', x < -1 || x >= this.el.clientWidth - 1)
    }
  }
}
