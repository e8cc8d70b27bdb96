// Dot-voting results: every note with votes, most votes first.
import { h, plural, replace } from '../dom.js'
import { readNote, readCluster, tallies } from '../board-model.js'

export class ResultsView {
  constructor ({ sectionTitle, me, hidden }) {
    this.sectionTitle = sectionTitle
    this.hidden = hidden
    this.me = me
    this.list = h('ol', { class: 'results-list' })
    this.summary = h('p', { class: 'hint' })
    this.el = h('section', { class: 'results', id: 'results', 'aria-labelledby': 'results-title', hidden: true },
      h('h2', { id: 'results-title', text: 'Results: notes by votes' }), this.summary, this.list)
    this.frame = 0
    this.doc = null
  }

  get visible () {
    return !this.el.hidden
  }

  show (on, doc) {
    this.el.hidden = !on
    this.doc = doc
    if (on) this.render()
  }

  /** Called on any vote or note change; redraws at most once a frame, and only when shown. */
  invalidate (doc) {
    this.doc = doc
    if (!this.visible || this.frame) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      this.render()
    })
  }

  render () {
    const doc = this.doc
    if (!doc) return
    if (this.hidden()) {
      this.summary.textContent = 'Voting is under way: the totals appear when the facilitator closes the vote.'
      replace(this.list)
      return
    }
    const { perNote } = tallies(doc, this.me)
    const clusters = doc.getMap('clusters')
    const rows = []
    let unvoted = 0
    doc.getMap('notes').forEach((value, id) => {
      const note = readNote(value)
      if (!note || note.withdrawn) return
      const total = perNote.get(id)?.total || 0
      if (!total) unvoted++
      else rows.push({ id, note, total, mine: perNote.get(id)?.mine || 0 })
    })
    rows.sort((a, b) => b.total - a.total || (a.note.created_ms || 0) - (b.note.created_ms || 0))
    this.summary.textContent = rows.length
      ? `${plural(rows.length, 'note')} received votes; ${plural(unvoted, 'note')} received none.`
      : 'No votes yet.'
    replace(this.list, ...rows.map((row, index) => {
      const cluster = row.note.cluster && readCluster(clusters.get(row.note.cluster))
      return h('li', { class: `result c-${row.note.colour || 'yellow'}` },
        h('span', { class: 'result-rank', text: `${index + 1}.` }),
        h('span', { class: 'result-votes', text: plural(row.total, 'vote') }),
        h('span', { class: 'result-text', text: row.note.text }),
        h('span', { class: 'result-where hint' },
          this.sectionTitle(row.note.section) + (cluster ? ` · ${cluster.label || 'Untitled cluster'}` : '') +
          (row.mine ? ` · ${row.mine} of your dots` : '')))
    }))
  }
}
