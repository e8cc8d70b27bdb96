// The board's sections, clusters and notes as DOM, updated per note (keyed by id) so a
// change to one note touches only that note's element, however many notes the board holds.
import { h, setText, setAttr, toggleClass, plural, replace, place } from '../dom.js'
import { SCOPES } from '../board-model.js'
import { attachDragging } from './drag.js'
import { attachInput } from './note-input.js'
import { refreshCluster } from './clusters.js'

const SCOPE_SHORT = Object.fromEntries(SCOPES.map((s) => [s.id, s.label]))
const truncate = (text, n) => (text.length > n ? text.slice(0, n - 1) + '…' : text)
const safeId = (id) => String(id).replace(/[^A-Za-z0-9_-]/g, '_')

export class NotesLayer {
  /**
   * ctx: { me, role, readOnly, isPrivate(sectionId), roomLabel(roomId), act(name, id, ...args),
   *        canMove(view), canvasMode(), idPrefix? (when two layers share a page) }
   * It reads the board through a reader (board-model.js: docReader for the live Y.Doc,
   * jsonReader for a moment of history), never the document itself.
   */
  constructor (root, ctx) {
    this.root = root
    this.ctx = ctx
    this.notes = new Map() // id -> { id, el, parts, data, source }
    this.sections = new Map() // id -> { data, el, canvas, count, badge }
    this.clusters = new Map() // id -> { id, el, body, label, count, data }
    this.board = null // reader of the board
    this.drafts = null // reader of my private drafts, if any
    this.idPrefix = ctx.idPrefix || ''
    this.dirty = new Set()
    this.frame = 0
    attachInput(this)
    if (!ctx.readOnly) attachDragging(this)
  }

  // -- whole board --------------------------------------------------------------------

  bind (board, drafts) {
    this.board = board
    this.drafts = drafts
    this.renderAll()
  }

  /** Show another state of the same board (history), touching only what differs from the last one. */
  show (board) {
    const before = this.board
    this.board = board
    if (!before || JSON.stringify(before.sections()) !== JSON.stringify(board.sections())) return this.renderAll()
    for (const id of new Set([...this.clusters.keys(), ...board.clusterIds()])) this.refreshCluster(id)
    for (const id of new Set([...this.notes.keys(), ...board.noteIds()])) this.refreshNote(id)
    this.setPrivacy()
  }

  /** An element id unique to this layer. */
  uid (kind, id) {
    return `${this.idPrefix}${kind}-${safeId(id)}`
  }

  renderAll () {
    this.notes.clear()
    this.sections.clear()
    this.clusters.clear()
    const sections = this.board ? this.board.sections() : []
    const blocks = []
    let group = null
    for (const section of sections) {
      const grouped = section.group || null
      if (grouped !== (group && group.name)) {
        const gid = this.uid('g', section.id)
        group = grouped ? { name: grouped, el: h('div', { class: 'group', role: 'group', 'aria-labelledby': gid }, h('h2', { id: gid, class: 'group-title', text: grouped })) } : null
        if (group) blocks.push(group.el)
      }
      const view = this.createSection(section, grouped ? 3 : 2)
      this.sections.set(section.id, view)
      if (group) group.el.append(view.el)
      else blocks.push(view.el)
    }
    replace(this.root, ...blocks)
    this.setPrivacy()
    if (!this.board) return
    for (const id of this.board.clusterIds()) this.refreshCluster(id)
    const ids = []
    const collect = (reader, source) => {
      for (const id of reader.noteIds()) {
        const note = reader.note(id)
        if (note) ids.push([note.created_ms || 0, id, source])
      }
    }
    collect(this.board, 'board')
    if (this.drafts) collect(this.drafts, 'draft')
    ids.sort((a, b) => a[0] - b[0])
    for (const [, id] of ids) this.refreshNote(id)
    for (const id of this.sections.keys()) this.dirty.add(id)
    this.schedule()
  }

  createSection (section, level) {
    const hid = this.uid('s', section.id)
    const count = h('span', { class: 'count', text: '0 notes' })
    const badge = h('span', { class: 'badge private', hidden: true, text: 'Private until reveal' })
    const actions = this.ctx.readOnly
      ? null
      : h('div', { class: 'section-actions' },
        h('button', { type: 'button', class: 'primary small', 'data-act': 'add', 'aria-label': `Add note to “${section.title}”`, 'aria-keyshortcuts': 'n' }, '+ Add note'),
        this.ctx.role === 'facilitator'
          ? h('button', { type: 'button', class: 'small', 'data-act': 'cluster-new', 'aria-label': `New cluster in “${section.title}”` }, 'New cluster')
          : null)
    const prompts = (section.prompts || []).length
      ? h('ul', { class: 'prompts', 'aria-label': 'Prompt questions' }, section.prompts.map((p) => h('li', { text: p })))
      : null
    const canvas = h('div', { class: 'canvas', 'data-section': section.id })
    const el = h('section', { class: 'section', 'aria-labelledby': hid, 'data-section': section.id },
      h('header', { class: 'section-head' },
        h(`h${level}`, { id: hid, class: 'section-title', text: section.title }),
        h('p', { class: 'section-meta' }, count, badge)),
      section.description ? h('p', { class: 'section-description', text: section.description }) : null,
      prompts,
      actions,
      h('div', { class: 'composer-slot' }),
      canvas)
    return { data: section, el, canvas, count, badge, slot: el.querySelector('.composer-slot') }
  }

  /** Show which sections are private right now (collect phase). */
  setPrivacy () {
    for (const [id, view] of this.sections) {
      const on = this.ctx.isPrivate(id)
      if (view.badge.hidden === on) view.badge.hidden = !on
    }
  }

  // -- notes --------------------------------------------------------------------------

  /** The note as this person sees it: on the board, or still one of my private drafts. */
  lookup (id) {
    const onBoard = this.board && this.board.note(id)
    if (onBoard) return { data: onBoard, source: 'board' }
    const draft = this.drafts && this.drafts.note(id)
    return draft ? { data: draft, source: 'draft' } : null
  }

  refreshNote (id) {
    const found = this.lookup(id)
    let view = this.notes.get(id)
    // A withdrawn note is gone for everyone but its author, who may put it back.
    const gone = found && found.data.withdrawn && found.data.author !== this.ctx.me
    const container = found && !gone && this.containerFor(found.data)
    if (!found || !container) {
      if (view) {
        view.el.remove()
        this.notes.delete(id)
        this.touch(view.data.section)
      }
      return
    }
    if (!view) {
      view = this.createNote(id)
      this.notes.set(id, view)
    }
    const before = view.data
    this.updateNote(view, found.data, found.source)
    if (view.el.parentNode !== container) {
      container.append(view.el)
      this.touch(found.data.section)
      if (before) this.touch(before.section)
    } else if (!before || before.y !== found.data.y || before.text !== found.data.text || before.withdrawn !== found.data.withdrawn) {
      this.touch(found.data.section)
    }
  }

  containerFor (note) {
    const cluster = note.cluster && this.clusters.get(note.cluster)
    if (cluster && cluster.data.section === note.section) return cluster.body
    return this.sections.get(note.section)?.canvas || null
  }

  createNote (id) {
    const tid = this.uid('nt', id)
    const parts = {
      text: h('p', { class: 'note-text', id: tid }),
      by: h('p', { class: 'note-by' }),
      flag: h('p', { class: 'note-flag', hidden: true }),
      votes: h('p', { class: 'note-votes' }),
      actions: h('div', { class: 'note-actions' })
    }
    const el = h('article', { class: 'note', tabindex: '0', 'data-id': id },
      parts.text, parts.by, parts.flag, parts.votes, parts.actions)
    return { id, el, parts, data: null, source: null, tid, built: '' }
  }

  updateNote (view, data, source) {
    const { el, parts } = view
    const mine = data.author === this.ctx.me
    const facilitator = this.ctx.role === 'facilitator'
    view.data = data
    view.source = source
    view.mine = mine
    setText(parts.text, data.text)
    const who = data.author_name ? data.author_name : 'Anonymous'
    setText(parts.by, `${mine ? (data.author_name ? 'You (signed)' : 'You (anonymous)') : who} · ${SCOPE_SHORT[data.scope] || SCOPE_SHORT.room}`)
    const withdrawn = Boolean(data.withdrawn)
    const flag = withdrawn
      ? 'You withdrew this note: nobody else sees it, and it is in no export'
      : source === 'draft'
        ? 'Private: only you can see this until the facilitator reveals'
        : data.from_room ? `From ${this.ctx.roomLabel(data.from_room)}` : ''
    setText(parts.flag, flag)
    if (parts.flag.hidden === Boolean(flag)) parts.flag.hidden = !flag
    for (const colour of ['yellow', 'pink', 'blue', 'green', 'orange', 'purple']) toggleClass(el, `c-${colour}`, (data.colour || 'yellow') === colour)
    toggleClass(el, 'mine', mine)
    toggleClass(el, 'draft', source === 'draft')
    toggleClass(el, 'withdrawn', withdrawn)
    place(el, data)
    const owner = mine ? (withdrawn ? 'Your withdrawn' : source === 'draft' ? 'Your private' : 'Your') : data.author_name ? `${data.author_name}’s` : 'Anonymous'
    setAttr(el, 'aria-label', `${owner} note: ${truncate(data.text, 80)}`)
    // Buttons depend only on who wrote it and where it lives, so they are built once.
    const shape = `${mine}|${source}|${facilitator}|${withdrawn}`
    if (view.built !== shape && !this.ctx.readOnly) {
      view.built = shape
      const label = (verb) => ({ type: 'button', class: 'small', 'aria-describedby': view.tid, 'data-act': verb })
      const onBoard = source === 'board'
      replace(parts.actions,
        mine && withdrawn ? h('button', { ...label('restore'), 'aria-label': 'Put this note back on the board', 'data-own': '' }, 'Put back') : null,
        mine && !withdrawn ? h('button', { ...label('edit'), 'aria-label': 'Edit note', 'data-own': '' }, 'Edit') : null,
        mine && onBoard && !withdrawn
          ? h('button', { ...label('withdraw'), 'aria-label': 'Withdraw note: take it off the board and out of every export', 'data-own': '' }, 'Withdraw')
          : null,
        mine && !withdrawn ? h('button', { ...label('delete'), 'aria-label': 'Delete note', 'data-own': '' }, 'Delete') : null,
        facilitator && onBoard && !withdrawn ? h('button', { ...label('more'), 'aria-label': 'More actions for note', 'aria-haspopup': 'dialog' }, 'More…') : null)
      replace(parts.votes,
        h('span', { class: 'vote-count' }),
        onBoard && !withdrawn && this.ctx.role !== 'viewer'
          ? h('span', { class: 'vote-buttons' },
            h('button', { ...label('vote'), class: 'small vote', 'aria-label': 'Give dot to this note' }, 'Give dot'),
            h('button', { ...label('unvote'), class: 'small vote', 'aria-label': 'Take dot back from this note', hidden: true }, 'Take dot'))
          : null)
    } else if (this.ctx.readOnly && !parts.votes.firstChild) {
      parts.votes.append(h('span', { class: 'vote-count' }))
    }
    this.updateVotes(view)
  }

  updateVotes (view) {
    const { total, mine } = this.board ? this.board.tally(view.id, this.ctx.me) : { total: 0, mine: 0 }
    // While totals are hidden, people see only their own dots: nobody follows the crowd.
    const hidden = this.ctx.totalsHidden?.()
    const text = hidden
      ? (mine ? `${plural(mine, 'dot')} of yours` : '')
      : total ? `${plural(total, 'vote')}${mine ? ` · ${mine} yours` : ''}` : 'No votes yet'
    setText(view.parts.votes.firstChild, text)
    const take = view.parts.votes.querySelector('[data-act="unvote"]')
    if (take && take.hidden === Boolean(mine)) take.hidden = !mine
    toggleClass(view.el, 'has-votes', !hidden && total > 0)
  }

  refreshAllVotes () {
    for (const view of this.notes.values()) this.updateVotes(view)
  }

  /** Private drafts being written, per section (facilitators: counts from the server, never text). */
  setDrafts (perSection, drafting) {
    for (const [id, section] of this.sections) {
      const next = perSection[id] || 0
      if (section.drafts !== next) {
        section.drafts = next
        section.drafting = drafting
        this.touch(id)
      }
    }
  }

  refreshVotes (id) {
    const view = this.notes.get(id)
    if (view) this.updateVotes(view)
  }

  refreshCluster (id) {
    refreshCluster(this, id)
  }

  // -- bookkeeping --------------------------------------------------------------------

  touch (sectionId) {
    if (!sectionId) return
    this.dirty.add(sectionId)
    this.schedule()
  }

  schedule () {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush())
  }

  /** Once per frame: counts and canvas heights of the sections that changed. */
  flush () {
    this.frame = 0
    const canvasMode = this.ctx.canvasMode()
    for (const id of this.dirty) {
      const section = this.sections.get(id)
      if (!section) continue
      const shown = section.canvas.querySelectorAll('.note:not(.withdrawn)').length
      const drafts = section.drafts ? ` · ${plural(section.drafts, 'private draft')} in progress` : ''
      setText(section.count, plural(shown, 'note') + drafts)
      for (const cluster of section.canvas.getElementsByClassName('cluster')) {
        const view = this.clusters.get(cluster.dataset.cluster)
        if (view) setText(view.count, plural(view.body.children.length, 'note'))
      }
      if (canvasMode) {
        let bottom = 0
        for (const child of section.canvas.children) bottom = Math.max(bottom, child.offsetTop + child.offsetHeight)
        const height = `${Math.max(120, bottom + 16)}px`
        if (section.canvas.style.minHeight !== height) section.canvas.style.minHeight = height
      }
    }
    this.dirty.clear()
  }

  refit () {
    for (const id of this.sections.keys()) this.dirty.add(id)
    this.schedule()
  }

}
