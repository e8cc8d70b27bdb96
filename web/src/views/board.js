// The board page for participants and facilitators (the projector has its own page: projector.js).
import { h, setText, toast, isTyping, plural, replace, announce } from '../dom.js'
import { api, memory } from '../api.js'
import { Channel, isRevoked } from '../session.js'
import * as model from '../board-model.js'
import { NotesLayer } from './notes.js'
import { Composer } from './composer.js'
import { facilitatorBar, noteDialog, timerDisplay } from './facilitator.js'
import { PresenceView, presenceFor, trackCursor } from './presence.js'
import { ResultsView } from './results.js'
import { boardActions } from './actions.js'
import { followControl } from './follow.js'
import { totalsHidden } from './votes.js'
import { HistoryView } from './history.js'
import { facilitatorTools, roomExportMenu } from './board-tools.js'

// What a person is told when the facilitator revoked participant access (close code 4401).
const REVOKED = {
  participant: 'The facilitator revoked access; ask for the new code, then join again with it.',
  viewer: 'The facilitator revoked access, and this projector link with it; open the new projector link from the dashboard.'
}

const STATUS_TEXT = {
  connected: 'Connected',
  connecting: 'Connecting…',
  disconnected: 'Connection lost — reconnecting. Your changes are kept on this device and sent when it returns',
  closed: 'Disconnected'
}

export function boardPage (root, { room, token, claims }) {
  const role = claims.r
  const page = {
    room, token, claims, role, me: claims.s, readOnly: false,
    board: null, drafts: null, plenary: null, eventInfo: null
  }
  page.meta = () => (page.board ? model.readMeta(page.board.doc) : {})
  page.rooms = () => page.eventInfo?.rooms || []
  const roomLabel = (id) => page.rooms().find((r) => r.id === id)?.label || id
  // Notes flow inside their section by default, so nothing ever hides anything; free placement
  // (notes where people dragged them) is an option for who wants it, on wide screens only.
  let layout = memory.preferences().placement === 'free' && innerWidth >= 720 ? 'canvas' : 'list'

  // -- the shell ----------------------------------------------------------------------
  const title = h('h1', { class: 'board-title', text: 'Loading the board…' })
  const subtitle = h('p', { class: 'board-subtitle' })
  const status = h('p', { class: 'status', role: 'status', 'data-status': 'connecting' }, STATUS_TEXT.connecting)
  const phaseBadge = h('p', { class: 'phase' })
  const phaseHelp = h('p', { class: 'phase-help' })
  const lockedBanner = h('p', { class: 'banner locked', role: 'status', hidden: true }, 'The facilitator has locked the board: you can read it, but not change it.')
  const fatal = h('div', { class: 'banner fatal', role: 'alert', hidden: true })
  const budget = h('p', { class: 'budget', role: 'status', hidden: true })
  const timer = timerDisplay()
  const sectionsEl = h('div', { class: 'sections', 'aria-busy': 'true' })
  const notices = h('div', { class: 'notices' }, phaseHelp, lockedBanner, budget)
  const layoutButton = h('button', { type: 'button', class: 'wide-only', 'aria-pressed': String(layout === 'canvas'), onclick: () => setLayout(layout === 'list' ? 'canvas' : 'list') }, 'Free placement')
  const resultsButton = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'results', onclick: () => toggleResults() }, 'Results')
  const help = h('details', { class: 'shortcuts wide-only' }, h('summary', {}, 'Keyboard'),
    h('div', { class: 'popover' }, h('ul', {},
      h('li', {}, h('kbd', {}, 'n'), ' add a note in the current section'),
      h('li', {}, h('kbd', {}, 'Enter'), ' save a note (Shift+Enter: new line), or edit the focused note'),
      h('li', {}, h('kbd', {}, 'Esc'), ' cancel'),
      h('li', {}, h('kbd', {}, '←↑→↓'), ' with free placement: move the focused note (Shift: further)'),
      h('li', {}, h('kbd', {}, 'Delete'), ' delete your focused note'),
      h('li', {}, h('kbd', {}, '+'), ' / ', h('kbd', {}, '−'), ' give or take back a dot while voting'),
      role === 'facilitator' ? h('li', {}, h('kbd', {}, '←↑→↓'), ' on a cluster’s ⠿ button: move the cluster') : null)))

  const layer = new NotesLayer(sectionsEl, {
    me: page.me,
    role,
    readOnly: page.readOnly,
    isPrivate: (id) => isPrivate(id),
    roomLabel,
    canvasMode: () => layout === 'canvas',
    canMove: (view) => !(role === 'participant' && page.meta().locked) && (role === 'facilitator' || !view.data.cluster),
    totalsHidden: () => totalsHidden(page.meta()),
    act: (...args) => actions.act(...args)
  })
  page.layer = layer
  const actions = boardActions(page)
  const presence = new PresenceView({ layer, selfLabel: 'you' })
  const results = new ResultsView({ sectionTitle: (id) => layer.sections.get(id)?.data.title || id, me: page.me, hidden: () => totalsHidden(page.meta()) })
  const composer = new Composer({
    name: role === 'participant' ? claims.n || null : null,
    maxChars: () => Number(page.meta().note_max_chars || 500),
    onSave: (fields, target) => saveNote(fields, target)
  })
  page.noteDialog = noteDialog({
    clustersOf: (section) => [...layer.clusters.values()].filter((c) => c.data.section === section).map((c) => ({ id: c.id, label: c.data.label })),
    setCluster: (id, clusterId) => model.updateNote(page.board.doc, id, { cluster: clusterId }),
    roomLabel,
    toPlenary: actions.toPlenary,
    isBreakout: () => page.meta().kind !== 'plenary'
  })
  const tools = role === 'facilitator' ? facilitatorTools(page, () => bar) : null
  const bar = role === 'facilitator'
    ? facilitatorBar({
      setPhase: (phase) => tools.changePhase(phase),
      setShowTotals: (show) => model.setMeta(page.board.doc, { hide_totals: !show }),
      follow: followControl(page),
      setLocked: (locked) => model.setMeta(page.board.doc, { locked }),
      startTimer: (s) => model.startTimer(page.board.doc, s),
      stopTimer: () => model.setMeta(page.board.doc, { timer: null }),
      dashboardUrl: `/event/${encodeURIComponent(claims.e)}?token=${encodeURIComponent(token)}`
    })
    : null

  // -- facilitators: history and exports ----------------------------------------------
  const facilitator = role === 'facilitator'
  const historyView = facilitator
    ? new HistoryView({ room, token, roomLabel, canvasMode: () => layout === 'canvas', onLeave: () => leaveHistory() })
    : null
  const historyButton = facilitator
    ? h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => (historyView.isOpen ? historyView.close() : enterHistory()) }, 'History')
    : null
  const exportMenu = facilitator ? roomExportMenu({ room, token, historyView }) : null
  const liveParts = () => [bar?.el, notices, results.el, sectionsEl]
  function enterHistory () {
    composer.close({ restoreFocus: false })
    for (const el of liveParts()) if (el) el.hidden = true
    resultsButton.hidden = true
    historyButton.setAttribute('aria-pressed', 'true')
    app.classList.add('in-history')
    historyView.open()
  }
  function leaveHistory () {
    for (const el of liveParts()) if (el && el !== results.el) el.hidden = false
    if (resultsButton.getAttribute('aria-expanded') === 'true') results.el.hidden = false
    resultsButton.hidden = false
    historyButton.setAttribute('aria-pressed', 'false')
    app.classList.remove('in-history')
    historyButton.focus()
    announce('Back on the live board.')
  }

  const app = h('div', { class: `board-page${layout === 'list' ? ' flow' : ''}`, 'data-role': role, 'data-phase': 'collect' },
    h('a', { class: 'skip', href: '#board-main' }, 'Skip to the board'),
    h('header', { class: 'board-header' },
      h('div', { class: 'heading' }, title, subtitle),
      h('div', { class: 'header-status' }, status, phaseBadge, timer.el, presence.el),
      h('nav', { class: 'view-tools', 'aria-label': 'View' }, layoutButton, resultsButton, historyButton, exportMenu, help)),
    bar?.el,
    h('main', { id: 'board-main', tabindex: '-1' }, fatal, notices, results.el, sectionsEl, historyView?.el),
    page.noteDialog.el)
  replace(root, app)
  trackCursor(sectionsEl, layer, () => page.board)

  // -- state --------------------------------------------------------------------------
  function isPrivate (sectionId) {
    const section = layer.sections.get(sectionId)?.data
    return Boolean(section?.private_until_reveal) && (page.meta().phase || 'collect') === 'collect'
  }

  let shownPhase = null
  let autoResults = false
  function updateMeta () {
    const meta = page.meta()
    const phase = meta.phase || 'collect'
    app.dataset.phase = phase
    app.dataset.locked = String(Boolean(meta.locked))
    const eventTitle = page.eventInfo?.title || meta.title
    if (eventTitle) {
      setText(title, eventTitle)
      document.title = `${eventTitle} · ${roomLabel(room)} — Candor`
    }
    const template = meta.title && meta.title !== eventTitle ? ` · ${meta.title}` : ''
    setText(subtitle, `${roomLabel(room)}${meta.kind === 'plenary' ? ' (everyone)' : ''}${template} · you are a ${role}`)
    setText(phaseBadge, `Phase: ${model.PHASE_LABELS[phase] || phase}${meta.locked ? ' · Locked' : ''}`)
    setText(phaseHelp, model.PHASE_HELP[phase] || '')
    lockedBanner.hidden = !(meta.locked && role === 'participant')
    timer.update(meta.timer || null)
    bar?.update(meta)
    layer.setPrivacy()
    layer.refreshAllVotes()
    results.invalidate(page.board.doc)
    updateBudget()
    if (phase === 'done' && composer.isOpen && !composer.target.note) composer.close({ restoreFocus: false })
    if (phase !== shownPhase) {
      // Results open by themselves when the board is done.
      const wanted = phase === 'done'
      if (wanted && results.el.hidden) {
        toggleResults(true)
        autoResults = true
      } else if (!wanted && autoResults) {
        toggleResults(false)
        autoResults = false
      }
      shownPhase = phase
    }
  }

  function updateBudget () {
    const meta = page.meta()
    const show = meta.phase === 'vote' && role === 'participant'
    budget.hidden = !show
    if (!show) return
    const total = Number(meta.votes_per_person ?? 5)
    const { spent } = model.tallies(page.board.doc, page.me)
    const hidden = totalsHidden(meta) ? ' Totals stay hidden until the facilitator closes the vote.' : ''
    setText(budget, `You have ${plural(total - spent, 'dot')} left of ${total}. Use “Give dot” on the notes you choose.${hidden}`)
  }

  function toggleResults (on = results.el.hidden) {
    results.show(on, page.board?.doc)
    resultsButton.setAttribute('aria-expanded', String(on))
  }

  function setLayout (next) {
    layout = next
    memory.rememberPreferences({ placement: layout === 'canvas' ? 'free' : 'flow' })
    app.classList.toggle('flow', layout === 'list')
    layoutButton.setAttribute('aria-pressed', String(layout === 'canvas'))
    layer.refit()
    historyView?.layer.refit()
    presence.render()
  }

  page.openComposer = (sectionId, note = null) => {
    const section = layer.sections.get(sectionId)
    if (!section) return
    composer.open({
      section: sectionId,
      sectionTitle: section.data.title,
      slot: section.slot,
      note,
      isPrivate: !note && role === 'participant' && isPrivate(sectionId),
      returnFocus: note ? layer.notes.get(note.id)?.el : section.el.querySelector('[data-act="add"]')
    })
    lastSection = sectionId
  }
  page.focusSection = (sectionId) => layer.sections.get(sectionId)?.el.querySelector('[data-act="add"]')?.focus()

  function saveNote (fields, target) {
    const reason = actions.blocked()
    if (reason) return reason
    if (target.note) {
      model.updateNote(actions.docFor(target.note.id), target.note.id, fields)
      return null
    }
    if (page.meta().phase === 'done') return 'The board is finished: no new notes now.'
    const usePrivate = role === 'participant' && isPrivate(target.section)
    if (usePrivate && !page.drafts) return 'Private notes are still connecting; try again in a moment.'
    const canvas = layer.sections.get(target.section).canvas
    const count = canvas.getElementsByClassName('note').length
    const slot = model.freeSlot(count, canvas.clientWidth || 600)
    model.addNote((usePrivate ? page.drafts : page.board).doc, { ...fields, section: target.section, author: page.me, ...slot })
    return null
  }

  // -- connections --------------------------------------------------------------------
  function showStatus (state) {
    const offline = (!navigator.onLine && state !== 'connected') || state === 'disconnected'
    status.dataset.status = offline ? 'disconnected' : state
    setText(status, offline ? STATUS_TEXT.disconnected : STATUS_TEXT[state] || state)
  }

  function observe (channel, source) {
    const doc = channel.doc
    const r = model.roots(doc)
    const noteIds = (events, map) => {
      const ids = new Set()
      for (const event of events) {
        if (event.target === map) for (const key of event.changes.keys.keys()) ids.add(key)
        else ids.add(String(event.path[0]))
      }
      return ids
    }
    r.notes.observeDeep((events) => {
      for (const id of noteIds(events, r.notes)) layer.refreshNote(id)
      if (source === 'board') results.invalidate(doc)
    })
    if (source !== 'board') return
    r.meta.observe(updateMeta)
    r.sections.observe(() => { layer.renderAll(); reattachComposer(); updateMeta() })
    r.clusters.observeDeep((events) => {
      for (const id of noteIds(events, r.clusters)) layer.refreshCluster(id)
      bar?.follow?.refresh()
    })
    r.votes.observeDeep((events) => {
      for (const id of noteIds(events, r.votes)) layer.refreshVotes(id)
      updateBudget()
      results.invalidate(doc)
    })
  }

  function reattachComposer () {
    if (composer.isOpen) {
      const section = layer.sections.get(composer.target.section)
      if (section) section.slot.append(composer.form)
      else composer.close({ restoreFocus: false })
    }
  }

  function bindAll () {
    layer.bind(model.docReader(page.board.doc), page.drafts ? model.docReader(page.drafts.doc) : null)
    reattachComposer()
    presence.bind(page.board.awareness)
    page.board.awareness.on('change', () => bar?.follow?.refresh())
    updateMeta()
  }

  function connect (channel, source) {
    channel.on('refused', (reason) => toast(`The server did not accept your last change: ${reason}. The board has been reloaded from the server.`, { urgent: true, timeoutMs: 15000 }))
    channel.on('fatal', ({ code, reason, message }) => {
      if (page.fatal) return // the board and the drafts room close together: say it once
      const revoked = isRevoked(code, reason) && REVOKED[role]
      page.fatal = revoked || message
      if (revoked && role === 'participant' && memory.participant(claims.e)?.token === token) {
        memory.rememberParticipant(claims.e, null) // the next visit asks for the new code
      }
      composer.close({ restoreFocus: false })
      replace(fatal, h('p', { text: page.fatal }),
        revoked && role === 'participant'
          ? h('a', { class: 'button primary', href: '/' }, 'Join with the new code')
          : h('a', { href: '/' }, 'Go to the start page'))
      fatal.hidden = false
      app.dataset.closed = 'true'
    })
    channel.on('reset', () => { observe(channel, source); bindAll() })
    observe(channel, source)
  }

  page.board = new Channel(room, token, { presence: presenceFor(claims), persist: page.me })
  connect(page.board, 'board')
  page.board.on('status', showStatus)
  addEventListener('online', () => showStatus(page.board.status))
  addEventListener('offline', () => showStatus(page.board.status))
  page.board.on('sync', (synced) => {
    if (!synced) return
    sectionsEl.removeAttribute('aria-busy')
    const wantsDrafts = role === 'participant' && model.readSections(page.board.doc).some((s) => s.private_until_reveal)
    if (wantsDrafts && !page.drafts) {
      // My private notes live in my own drafts room until the facilitator reveals them.
      page.drafts = new Channel(`${room}~${page.me}`, token, { persist: page.me })
      layer.drafts = model.docReader(page.drafts.doc)
      connect(page.drafts, 'draft')
    }
  })
  bindAll()

  tools?.pollDrafts()
  api.event(claims.e, token).then((info) => {
    page.eventInfo = info
    updateMeta()
    for (const view of layer.notes.values()) if (view.data.from_room) layer.refreshNote(view.id)
  }).catch(() => {})

  // -- keyboard -----------------------------------------------------------------------
  let lastSection = null
  {
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'n' || event.ctrlKey || event.metaKey || event.altKey || isTyping(event)) return
      if (document.querySelector('dialog[open]') || historyView?.isOpen || page.fatal) return
      const here = document.activeElement?.closest?.('.section')?.dataset.section
      const sectionId = here || lastSection || layer.sections.keys().next().value
      if (sectionId) {
        event.preventDefault()
        actions.act('add', sectionId)
      }
    })
  }
  window.candor = { page, model }
  return page
}
