// The projector page (viewer token): read-only, large type, showing what a facilitator puts on
// it ("follow me": the whole board, one section, one cluster or the results, and which page).
// A screen shows notes kept in a room only when it is that room's own screen.
import { h, setText, replace } from '../dom.js'
import { api } from '../api.js'
import { Channel, isRevoked } from '../session.js'
import * as model from '../board-model.js'
import { presenceFor } from './presence.js'
import { timerDisplay } from './facilitator.js'
import { Stage, buildView } from './stage.js'
import { totalsHidden } from './votes.js'

const STATUS_TEXT = { connected: 'Connected', connecting: 'Connecting…', disconnected: 'Connection lost — reconnecting…', closed: 'Disconnected' }
const ROTATE_MS = 20000 // pages turn by themselves when no facilitator drives the screen
const REFIT_MS = 120

/** The newest "follow me" a facilitator in the room has set, or the whole board. */
export function followed (awareness) {
  let best = null
  for (const state of awareness.getStates().values()) {
    const wish = state?.user?.role === 'facilitator' ? state.projector : null
    if (wish && typeof wish.view === 'string' && (!best || (wish.at || 0) > (best.at || 0))) best = wish
  }
  return best
}

export function projectorPage (root, { room, token, claims, screen }) {
  const home = screen || room
  const ownRoom = home === room
  const page = { room, token, claims, role: 'viewer', eventInfo: null }
  const roomLabel = (id) => page.eventInfo?.rooms.find((r) => r.id === id)?.label || id
  const title = h('h1', { class: 'board-title', text: 'Loading the board…' })
  const subtitle = h('p', { class: 'board-subtitle' })
  const status = h('p', { class: 'status', role: 'status', 'data-status': 'connecting' }, STATUS_TEXT.connecting)
  const phase = h('p', { class: 'phase' })
  const pageNo = h('p', { class: 'page-number', hidden: true })
  const timer = timerDisplay()
  const viewTitle = h('h2', { class: 'view-title', hidden: true })
  const viewSubtitle = h('p', { class: 'view-subtitle', hidden: true })
  const scopeNote = h('p', { class: 'scope-note', hidden: ownRoom })
  const fatal = h('div', { class: 'banner fatal', role: 'alert', hidden: true })
  const stage = new Stage()
  const select = h('select', { id: 'projector-room', 'aria-label': 'Board shown on this screen' }, h('option', { value: room }, 'This board'))
  select.addEventListener('change', () => {
    location.href = `/board/${encodeURIComponent(select.value)}?token=${encodeURIComponent(token)}&screen=${encodeURIComponent(home)}`
  })
  const app = h('div', { class: 'projector-page', 'data-role': 'viewer', 'data-phase': 'collect' },
    h('header', { class: 'projector-head' },
      h('div', { class: 'heading' }, title, subtitle),
      h('div', { class: 'header-status' }, timer.el, phase, pageNo, status,
        h('nav', { class: 'view-tools', 'aria-label': 'Projector' }, select))),
    fatal,
    h('main', { class: 'projector-main', id: 'board-main' },
      h('div', { class: 'view-head' }, viewTitle, viewSubtitle, scopeNote),
      stage.el))
  replace(root, app)
  document.title = 'Projector — Candor'

  const channel = new Channel(room, token, { presence: presenceFor(claims) })
  page.board = channel
  let wish = null
  let rotate = 0
  let timerId = 0

  function render () {
    timerId = 0
    const doc = channel.doc
    const meta = model.readMeta(doc)
    const current = meta.phase || 'collect'
    app.dataset.phase = current
    const eventTitle = page.eventInfo?.title || meta.title || 'Candor'
    setText(title, eventTitle)
    setText(subtitle, `${roomLabel(room)}${meta.kind === 'plenary' ? ' (everyone)' : ''} · projector`)
    setText(scopeNote, `On the ${roomLabel(home)} screen: notes kept in ${roomLabel(room)} are not shown here.`)
    document.title = `${eventTitle} · ${roomLabel(room)} · projector — Candor`
    setText(phase, `Phase: ${model.PHASE_LABELS[current] || current}${meta.locked ? ' · Locked' : ''}`)
    timer.update(meta.timer || null)
    const view = wish || { view: current === 'done' ? 'results' : 'board' }
    app.dataset.view = view.view
    const built = buildView(doc, view, { ownRoom, roomLabel, hideTotals: totalsHidden(meta) })
    viewTitle.hidden = !built.title
    setText(viewTitle, built.title || '')
    viewSubtitle.hidden = !built.subtitle
    setText(viewSubtitle, built.subtitle || '')
    stage.show(built.blocks)
    turn(wish ? wish.page || 0 : stage.page)
  }

  function turn (to) {
    stage.turnTo(to)
    pageNo.hidden = stage.pages < 2
    setText(pageNo, `Page ${stage.page + 1} of ${stage.pages}`)
    channel.setPresenceField('screen', { pages: stage.pages, page: stage.page, font_px: stage.fontPx })
    clearInterval(rotate)
    rotate = 0
    if (!wish && stage.pages > 1) rotate = setInterval(() => turn((stage.page + 1) % stage.pages), ROTATE_MS)
  }

  const schedule = () => { if (!timerId) timerId = setTimeout(render, REFIT_MS) }
  function observe (doc) {
    doc.on('afterTransaction', (transaction) => { if (transaction.changed.size) schedule() })
  }
  observe(channel.doc)
  channel.on('reset', (doc) => { observe(doc); bindAwareness(); schedule() })
  channel.on('status', (state) => {
    status.dataset.status = state
    setText(status, STATUS_TEXT[state] || state)
  })
  channel.on('fatal', ({ code, reason, message }) => {
    const revoked = isRevoked(code, reason)
    replace(fatal, h('p', { text: revoked ? 'The facilitator revoked access, and this projector link with it; open the new projector link from the dashboard.' : message }))
    fatal.hidden = false
  })
  function bindAwareness () {
    channel.awareness.on('change', () => {
      const next = followed(channel.awareness)
      if (JSON.stringify(next) === JSON.stringify(wish)) return
      const onlyPage = next && wish && next.view === wish.view && next.id === wish.id
      wish = next
      if (onlyPage) turn(wish.page || 0)
      else schedule()
    })
  }
  bindAwareness()
  addEventListener('resize', schedule)
  api.event(claims.e, token).then((info) => {
    page.eventInfo = info
    replace(select, ...info.rooms.map((r) => h('option', { value: r.id, selected: r.id === room }, r.label)))
    schedule()
  }).catch(() => {})
  schedule()
  window.candor = { page, model, stage }
  return page
}
