// History (facilitators): the board as it stood after any change, read-only, drawn by the same
// notes layer from the board JSON the server rebuilds (GET /api/rooms/{room}/board?at=seq), next to
// the timeline of what happened (GET /api/rooms/{room}/history). It can play the session back.
import { h, setText, setAttr, announce, replace, plural } from '../dom.js'
import { api } from '../api.js'
import { jsonReader, PHASE_LABELS } from '../board-model.js'
import { NotesLayer } from './notes.js'

const PAGE_LIMIT = 1000
const MAX_PAGES = 20
const SLIDE_WAIT_MS = 120
const SPEEDS = [
  { ms: 1000, label: '1 change a second' },
  { ms: 500, label: '2 changes a second' },
  { ms: 200, label: '5 changes a second' }
]

const phaseWord = (phase) => (PHASE_LABELS[phase] || String(phase ?? '')).toLowerCase()

/** A timeline event (schemas/openapi.json TimelineEvent) in plain words. */
export function describeEvent (event) {
  const by = event.author && event.author !== 'anonymous' ? ` (${event.author})` : ''
  switch (event.kind) {
    case 'board_created': return 'board created'
    case 'note_added': return `note added${by}`
    case 'note_edited': return `note edited${event.fields?.length ? `: ${event.fields.map((f) => f.replace(/_/g, ' ')).join(', ')}` : ''}`
    case 'note_moved': return 'note moved'
    case 'note_clustered': return event.cluster ? 'note put in a cluster' : 'note taken out of its cluster'
    case 'note_deleted': return 'note deleted'
    case 'note_withdrawn': return `note withdrawn${by}`
    case 'note_restored': return `note restored${by}`
    case 'vote_cast': return event.count ? `vote cast (${plural(event.count, 'dot')} on the note)` : 'vote taken back'
    case 'cluster_created': return 'cluster created'
    case 'cluster_labelled': return 'cluster labelled'
    case 'cluster_moved': return 'cluster moved'
    case 'cluster_deleted': return 'cluster removed'
    case 'phase_changed': return `phase changed to ${phaseWord(event.to)}`
    case 'locked': return 'board locked'
    case 'unlocked': return 'board unlocked'
    case 'timer_set': return event.duration_s ? `timer set to ${Math.round(event.duration_s / 60) || 1} min` : 'timer stopped'
    case 'settings_changed': return `settings changed${event.fields?.length ? `: ${event.fields.map((f) => f.replace(/_/g, ' ')).join(', ')}` : ''}`
    case 'sections_changed': return 'sections changed'
    default: return String(event.kind || 'change').replace(/_/g, ' ')
  }
}

const timeOf = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '')
const pad = (n) => String(n).padStart(2, '0')
/** A Date as the value of an <input type="datetime-local" step="1">, in local time. */
const localInput = (date) =>
  `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`

export class HistoryView {
  /** { room, token, roomLabel(id), canvasMode(), onLeave() } */
  constructor ({ room, token, roomLabel, canvasMode, onLeave }) {
    this.room = room
    this.token = token
    this.onLeave = onLeave
    this.isOpen = false
    this.head = 0
    this.seq = 0 // where the slider is
    this.shownSeq = 0 // what the board below shows
    this.meta = {}
    this.ticket = 0
    this.timer = 0
    this.playing = false
    this.times = new Map() // seq -> ISO time, from the timeline
    this.items = new Map() // seq -> <li>
    this.timelineTicket = 0

    this.heading = h('h2', { id: 'history-h', tabindex: '-1', text: 'History' })
    this.slider = h('input', { type: 'range', id: 'history-seq', min: '1', max: '1', step: '1', value: '1', 'aria-describedby': 'history-where' })
    this.where = h('p', { class: 'history-where', id: 'history-where' })
    this.prev = h('button', { type: 'button', onclick: () => this.step(-1) }, h('span', { 'aria-hidden': 'true' }, '◀ '), 'Previous change')
    this.next = h('button', { type: 'button', onclick: () => this.step(1) }, 'Next change', h('span', { 'aria-hidden': 'true' }, ' ▶'))
    this.play = h('button', { type: 'button', class: 'primary play', onclick: () => (this.playing ? this.pause() : this.start()) }, 'Play')
    this.speed = h('select', { id: 'history-speed' }, SPEEDS.map((s, i) => h('option', { value: String(s.ms), selected: i === 1 }, s.label)))
    this.when = h('input', { type: 'datetime-local', id: 'history-time', step: '1' })
    this.problem = h('p', { class: 'error', role: 'alert', hidden: true })
    this.leave = h('button', { type: 'button', class: 'primary', onclick: () => this.close() }, 'Back to the live board')
    this.boardEl = h('div', { class: 'sections history-board', 'aria-busy': 'true' })
    this.list = h('ol', { class: 'timeline-list' })
    this.listStatus = h('p', { class: 'hint', role: 'status', text: 'Loading what happened…' })
    const timeForm = h('form', { class: 'row history-time', novalidate: true },
      h('label', { for: 'history-time', text: 'Go to a time' }), this.when,
      h('button', { type: 'submit' }, 'Go'))
    timeForm.addEventListener('submit', (event) => { event.preventDefault(); this.goToTime() })

    this.el = h('section', { class: 'history', 'aria-labelledby': 'history-h', hidden: true },
      h('div', { class: 'history-controls' },
        h('div', { class: 'history-top' }, this.heading, this.leave),
        h('p', { class: 'banner history-note' }, 'Read-only: the board as it stood after the change you choose. Nothing here changes the live board.'),
        h('div', { class: 'history-slider' },
          h('label', { for: 'history-seq', text: 'Change' }), this.slider),
        this.where,
        h('div', { class: 'row' }, this.prev, this.play, this.next,
          h('label', { for: 'history-speed', text: 'Speed' }), this.speed),
        timeForm,
        this.problem),
      h('div', { class: 'history-board-wrap', role: 'region', 'aria-label': 'The board as it stood' }, this.boardEl),
      h('section', { class: 'history-timeline', 'aria-labelledby': 'timeline-h' },
        h('h2', { id: 'timeline-h', text: 'What happened' }),
        h('p', { class: 'hint', text: 'Choose a change to see the board as it stood after it.' }),
        this.listStatus,
        this.list))

    this.layer = new NotesLayer(this.boardEl, {
      me: null,
      role: 'viewer',
      readOnly: true,
      idPrefix: 'h-',
      isPrivate: (id) => Boolean(this.layer.sections.get(id)?.data.private_until_reveal) && (this.meta.phase || 'collect') === 'collect',
      roomLabel,
      canvasMode,
      canMove: () => false,
      act: () => {}
    })

    this.slider.addEventListener('input', () => {
      this.pause({ quiet: true })
      this.go(Number(this.slider.value), { wait: SLIDE_WAIT_MS })
    })
    this.list.addEventListener('click', (event) => {
      const item = event.target.closest('button[data-seq]')
      if (!item) return
      this.pause({ quiet: true })
      this.go(Number(item.dataset.seq))
      announce(`Board after change ${item.dataset.seq}.`)
    })
  }

  async open () {
    this.isOpen = true
    this.el.hidden = false
    this.fitUnderHeader()
    this.problem.hidden = true
    this.heading.focus()
    try {
      const now = await api.board(this.room, this.token)
      if (!this.isOpen) return
      this.head = now.seq
      this.slider.max = String(Math.max(1, now.seq))
      this.seq = now.seq
      this.slider.value = String(now.seq)
      this.render(now)
    } catch (error) {
      this.fail(`The history could not be loaded: ${error.message}`)
    }
    this.loadTimeline() // again at every opening: the session may have gone on since
  }

  /** The timeline stays in view below the page's sticky header, whatever that header's height. */
  fitUnderHeader () {
    const header = this.el.closest('.board-page')?.querySelector('.board-header')
    if (!header) return
    const fit = () => this.el.style.setProperty('--header-h', `${header.offsetHeight}px`)
    fit()
    if (!this.headerWatch && typeof ResizeObserver === 'function') {
      this.headerWatch = new ResizeObserver(fit)
      this.headerWatch.observe(header)
    }
  }

  close () {
    if (!this.isOpen) return
    this.pause({ quiet: true })
    this.isOpen = false
    this.ticket++
    clearTimeout(this.timer)
    this.el.hidden = true
    this.layer.bind(null, null) // nothing of the past stays on the page
    this.shownSeq = 0
    this.onLeave()
  }

  fail (message) {
    this.problem.textContent = message
    this.problem.hidden = false
  }

  /** Move the slider to `seq` and show the board there (after `wait` ms, so a dragged slider asks once). */
  go (seq, { wait = 0 } = {}) {
    this.seq = Math.min(Math.max(1, Math.round(seq) || 1), Math.max(1, this.head))
    this.slider.value = String(this.seq)
    this.describe()
    clearTimeout(this.timer)
    return new Promise((resolve) => {
      this.timer = setTimeout(() => this.fetch(this.seq).then(resolve), wait)
    })
  }

  step (delta) {
    const to = this.seq + delta
    if (to < 1 || to > this.head) return
    this.pause({ quiet: true })
    this.go(to)
  }

  async fetch (seq) {
    const ticket = ++this.ticket
    this.boardEl.setAttribute('aria-busy', 'true')
    try {
      const found = await api.board(this.room, this.token, seq)
      if (ticket === this.ticket && this.isOpen) this.render(found)
    } catch (error) {
      if (ticket === this.ticket) {
        this.fail(`The board at change ${seq} could not be loaded: ${error.message}`)
        this.pause({ quiet: true })
      }
    }
  }

  render (found) {
    this.meta = found.board?.meta || {}
    this.shownSeq = found.seq
    this.problem.hidden = true
    this.layer.show(jsonReader(found.board))
    this.el.dataset.phase = this.meta.phase || 'collect'
    this.boardEl.removeAttribute('aria-busy')
    this.describe()
  }

  /** "After change 12 of 40 · 14:32:05 · phase: vote": on the page and as the slider's value text. */
  describe () {
    const time = timeOf(this.times.get(this.seq))
    const phase = this.shownSeq === this.seq && this.meta.phase ? `phase ${phaseWord(this.meta.phase)}${this.meta.locked ? ', locked' : ''}` : ''
    const text = [`After change ${this.seq} of ${this.head}`, time, phase].filter(Boolean).join(' · ')
    setText(this.where, text)
    this.slider.setAttribute('aria-valuetext', [`Change ${this.seq} of ${this.head}`, time].filter(Boolean).join(', '))
    // aria-disabled, not disabled: the button keeps the keyboard focus when it reaches the end.
    setAttr(this.prev, 'aria-disabled', this.seq <= 1 ? 'true' : null)
    setAttr(this.next, 'aria-disabled', this.seq >= this.head ? 'true' : null)
    for (const [seq, item] of this.items) {
      const current = seq === this.seq
      const button = item.firstChild
      if (current) button.setAttribute('aria-current', 'step')
      else if (button.hasAttribute('aria-current')) button.removeAttribute('aria-current')
      item.classList.toggle('later', seq > this.seq)
    }
    const item = this.items.get(this.seq) || [...this.items.entries()].filter(([s]) => s <= this.seq).pop()?.[1]
    if (item) {
      const box = item.parentElement.parentElement // the scrolling timeline
      if (item.offsetTop < box.scrollTop || item.offsetTop + item.offsetHeight > box.scrollTop + box.clientHeight) {
        box.scrollTop = item.offsetTop - box.clientHeight / 3
      }
    }
  }

  /** Play from here (from the start when at the end), one change at a time at the chosen pace. */
  async start () {
    if (this.head <= 1) return
    this.playing = true
    setText(this.play, 'Pause')
    announce('Playing the session back.')
    if (this.seq >= this.head) await this.go(1)
    while (this.playing && this.seq < this.head) {
      const began = Date.now()
      await this.go(this.seq + 1)
      const rest = Number(this.speed.value) - (Date.now() - began)
      if (rest > 0) await new Promise((resolve) => { this.pace = setTimeout(resolve, rest) })
    }
    if (this.playing) this.pause({ finished: true })
  }

  pause ({ quiet = false, finished = false } = {}) {
    if (!this.playing) return
    this.playing = false
    clearTimeout(this.pace)
    setText(this.play, 'Play')
    if (!quiet) announce(finished ? `Replay finished at change ${this.seq}.` : `Paused at change ${this.seq}.`)
  }

  async goToTime () {
    if (!this.when.value) return this.fail('Choose a date and time first.')
    const at = new Date(this.when.value)
    if (Number.isNaN(at.getTime())) return this.fail('That is not a time this page understands.')
    this.pause({ quiet: true })
    try {
      const found = await api.board(this.room, this.token, at.toISOString())
      if (found.seq < 1) return this.fail('The board did not exist yet at that time.')
      if (found.seq > this.head) {
        this.head = found.seq // changes made since history was opened
        this.slider.max = String(found.seq)
      }
      this.seq = found.seq
      this.slider.value = String(found.seq)
      this.render(found)
      announce(`Board after change ${found.seq}.`)
    } catch (error) {
      this.fail(`No board at that time: ${error.message}`)
    }
  }

  /** Every page of the timeline, oldest first, shown as a list to jump from. */
  async loadTimeline () {
    const ticket = ++this.timelineTicket
    let after = 0
    let pages = 0
    const bySeq = new Map()
    try {
      while (after !== null && pages < MAX_PAGES) {
        const page = await api.history(this.room, this.token, after, PAGE_LIMIT)
        if (ticket !== this.timelineTicket) return
        for (const event of page.events) {
          if (!bySeq.has(event.seq)) bySeq.set(event.seq, [])
          bySeq.get(event.seq).push(event)
          this.times.set(event.seq, event.time)
        }
        after = page.next
        pages++
      }
    } catch (error) {
      if (ticket !== this.timelineTicket) return
      setText(this.listStatus, `What happened could not be loaded: ${error.message}`)
      return
    }
    const items = []
    this.items.clear()
    for (const [seq, events] of bySeq) {
      const what = events.map(describeEvent).join('; ')
      const item = h('li', {},
        h('button', { type: 'button', class: 'timeline-item', 'data-seq': String(seq) },
          h('span', { class: 'timeline-seq' }, h('span', { class: 'visually-hidden' }, 'Change '), String(seq)),
          h('time', { class: 'timeline-time', datetime: events[0].time }, timeOf(events[0].time)),
          h('span', { class: 'timeline-what', text: what })))
      this.items.set(seq, item)
      items.push(item)
    }
    replace(this.list, ...items)
    setText(this.listStatus, after === null ? `${plural(bySeq.size, 'change')} recorded.` : `The first ${plural(bySeq.size, 'change')} are listed.`)
    const times = [...this.times.values()]
    if (times.length) {
      this.when.min = localInput(new Date(times[0]))
      this.when.max = localInput(new Date(times[times.length - 1]))
      if (!this.when.value) this.when.value = this.when.max
    }
    this.describe()
  }
}
