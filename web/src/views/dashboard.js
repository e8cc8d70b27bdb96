// The facilitator's dashboard: every room live, one click into any room, broadcasts to all rooms
// (each confirmed first), the top ideas to the plenary, links to share and exports.
import { h, setText, announce, plural, toast, replace } from '../dom.js'
import { api, exportPath, memory } from '../api.js'
import { PHASES, PHASE_LABELS } from '../board-model.js'
import { sharePanel, reachWarning } from './share.js'
import { confirmAction } from './confirm.js'
import { roomCard, ideasPanel } from './console.js'
import { EVENT_AUDIENCES, ROOM_AUDIENCES, eventDetailsForm, exportGroup } from './exports.js'

const POLL_MS = 3000

export async function dashboardPage (root, { eventId, token }) {
  document.title = 'Dashboard — Candor'
  const title = h('h1', { text: 'Facilitator dashboard' })
  const status = h('p', { class: 'hint', role: 'status' })
  const headerCode = h('p', { class: 'header-code', hidden: true })
  const grid = h('ul', { class: 'room-grid', 'aria-label': 'Rooms' })
  const cards = new Map()
  let sectionTitles = {}
  let roomCount = 0

  const boardLink = (roomId) => `/board/${encodeURIComponent(roomId)}?token=${encodeURIComponent(token)}`
  const facilitatorUrl = `${location.origin}/event/${encodeURIComponent(eventId)}?token=${encodeURIComponent(token)}`

  // -- links to share, and revoking them ----------------------------------------------
  // The server gives a facilitator the code and links on any device (GET /api/events/{id}).
  const linksBody = h('div', { class: 'links-body' }, h('p', { class: 'hint', text: 'Loading the links…' }))
  let links = null
  function showLinks (next) {
    links = { ...links, ...next, facilitator_url: facilitatorUrl }
    if (!links.join_code) return
    replace(linksBody, sharePanel({ ...links, reach: null })) // the warning is at the top of the page
    replace(reachBox, links.reach?.loopback_only ? reachWarning(links.reach) : null)
    replace(headerCode, 'Join code ', h('strong', { text: links.join_code }))
    headerCode.hidden = false
    const remembered = memory.created(eventId)
    if (remembered) memory.rememberCreated(eventId, { ...remembered, join_code: links.join_code, join_url: links.join_url, viewer_url: links.viewer_url })
  }
  const revokeButton = h('button', { type: 'button', class: 'danger', 'aria-haspopup': 'dialog', 'aria-describedby': 'revoke-help', onclick: () => openRevoke() }, 'Revoke participant access')
  const revokeDone = h('p', { class: 'revoke-done', role: 'status' })
  const revokeDialog = revokeConfirmation(async () => {
    const result = await api.revoke(eventId, token)
    let event = null
    try {
      event = await api.event(eventId, token) // the projector link changes too
    } catch {
      // the new code is what matters; the projector link can be reloaded
    }
    showLinks({ join_code: result.join_code, join_url: result.join_url, ...(event?.join_code ? { viewer_url: event.viewer_url } : {}) })
    const closed = result.participants_closed || 0
    const time = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    setText(revokeDone, `Access revoked at ${time}: ${plural(closed, 'connection')} closed. The new join code is ${result.join_code}; the old code, join link and projector link no longer work.`)
  })
  function openRevoke () {
    revokeDialog.open(revokeButton)
  }
  const linksCard = h('section', { class: 'card links', 'aria-labelledby': 'links-h' },
    h('h2', { id: 'links-h', text: 'Links to share' }),
    linksBody,
    h('div', { class: 'revoke-block' },
      h('h3', { text: 'If the code or link reached the wrong people' }),
      h('p', { class: 'hint', id: 'revoke-help', text: 'Revoking disconnects everyone who joined and makes a new join code; people rejoin with the new code. Notes stay on the boards.' }),
      revokeButton,
      revokeDone),
    revokeDialog.el)

  // -- exports --------------------------------------------------------------------------
  const roomPick = h('select', { id: 'export-room' })
  const eventExport = exportGroup({
    legend: 'The whole event',
    help: 'The session as one deck: the question, who ran it, what we did and the agreement, then a part per theme with every room merged, each note once. Notes kept in their room never appear.',
    audiences: EVENT_AUDIENCES,
    token,
    moments: true,
    preview: true,
    path: (format, audience, at) => exportPath.event(eventId, format, { audience, at })
  })
  const details = eventDetailsForm({ load: () => api.details(eventId, token), save: (fields) => api.saveDetails(eventId, token, fields) })
  const roomExport = exportGroup({
    legend: 'One room',
    help: 'One board as it stands now.',
    audiences: ROOM_AUDIENCES,
    token,
    before: h('div', { class: 'row' }, h('label', { for: 'export-room', text: 'Room' }), roomPick),
    path: (format, audience) => exportPath.room(roomPick.value, format, { audience })
  })
  const exportsCard = h('section', { class: 'card exports', 'aria-labelledby': 'exports-h' },
    h('h2', { id: 'exports-h', text: 'Exports' }),
    h('p', { class: 'hint', text: 'Download what the groups wrote. Names appear only on notes their author signed; withdrawn notes never appear.' }),
    h('div', { class: 'export-grid' }, eventExport.el, roomExport.el),
    details.el)
  function updateRoomPick (rooms) {
    const signature = JSON.stringify(rooms.map((r) => [r.id, r.label]))
    if (roomPick.dataset.sig === signature) return
    roomPick.dataset.sig = signature
    const chosen = roomPick.value
    const ordered = [...rooms].sort((a, b) => (a.kind === 'plenary') - (b.kind === 'plenary'))
    replace(roomPick, ...ordered.map((r) => h('option', { value: r.id, selected: r.id === chosen }, r.label)))
  }

  // -- broadcast ----------------------------------------------------------------------
  const phase = h('select', { id: 'bc-phase' }, PHASES.map((p) => h('option', { value: p }, PHASE_LABELS[p])))
  const minutes = h('select', { id: 'bc-minutes' }, [1, 2, 3, 5, 10, 15, 20, 30].map((m) => h('option', { value: String(m * 60), selected: m === 5 }, `${m} min`)))
  const send = async (fields, what) => {
    const ok = await confirmAction({
      title: `${what} in every room?`,
      lines: [
        `This changes all ${plural(roomCount, 'room')} of the event at once, for everyone in them.`,
        fields.phase && fields.phase !== 'collect' ? 'Rooms still collecting reveal their private notes to the room: that cannot be undone.' : null
      ].filter(Boolean),
      confirm: `${what} everywhere`
    })
    if (!ok) return
    try {
      const result = await api.broadcast(eventId, token, fields)
      announce(`${what}: done in ${plural(result.rooms.length, 'room')}.`)
      toast(`${what}: done in ${plural(result.rooms.length, 'room')}.`)
      refresh()
    } catch (error) {
      toast(`Not sent: ${error.message}`, { urgent: true })
    }
  }
  const broadcast = h('section', { class: 'card', 'aria-labelledby': 'bc-h' },
    h('h2', { id: 'bc-h', text: 'All rooms at once' }),
    h('div', { class: 'row' },
      h('label', { for: 'bc-phase', text: 'Phase' }), phase,
      h('button', { type: 'button', class: 'primary', onclick: () => send({ phase: phase.value }, `Phase set to ${PHASE_LABELS[phase.value]}`) }, 'Set phase everywhere')),
    h('div', { class: 'row' },
      h('label', { for: 'bc-minutes', text: 'Timer' }), minutes,
      h('button', { type: 'button', onclick: () => send({ timer: { duration_s: Number(minutes.value) } }, 'Timer started') }, 'Start timer everywhere'),
      h('button', { type: 'button', onclick: () => send({ timer: null }, 'Timer stopped') }, 'Stop timers')),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => send({ locked: true }, 'Boards locked') }, 'Lock all boards'),
      h('button', { type: 'button', onclick: () => send({ locked: false }, 'Boards unlocked') }, 'Unlock all boards')))

  const addLabel = h('input', { id: 'add-room-label', maxlength: '80', placeholder: 'e.g. Room by the window' })
  const addRoom = h('form', { class: 'row' },
    h('label', { for: 'add-room-label', text: 'New room name (optional)' }), addLabel,
    h('button', { type: 'submit' }, 'Add a breakout room'))
  addRoom.addEventListener('submit', async (event) => {
    event.preventDefault()
    try {
      const room = await api.addRoom(eventId, token, addLabel.value.trim() || null)
      addLabel.value = ''
      announce(`${room.label} added.`)
      refresh()
    } catch (error) {
      toast(`Room not added: ${error.message}`, { urgent: true })
    }
  })

  // -- erasing the event ---------------------------------------------------------------
  const eraseButton = h('button', { type: 'button', class: 'danger', 'aria-haspopup': 'dialog', 'aria-describedby': 'erase-help', onclick: () => eraseDialog.open(eraseButton) }, 'Erase this event')
  const eraseDialog = eraseConfirmation(async () => {
    await api.eraseEvent(eventId, token)
    clearTimeout(timer)
    erased = true
    memory.forgetEvent(eventId)
    const heading = h('h1', { id: 'erased-h', tabindex: '-1', text: 'The event was erased' })
    replace(root, h('div', { class: 'dashboard-page' },
      h('header', { class: 'site-header' }, h('p', { class: 'brand' }, h('a', { href: '/' }, 'Candor'))),
      h('main', { class: 'narrow' }, h('section', { class: 'card', 'aria-labelledby': 'erased-h' },
        heading,
        h('p', { text: 'Its boards, notes, votes, drafts and links are gone from the server. Anyone still connected was disconnected.' }),
        h('p', {}, h('a', { class: 'button primary', href: '/' }, 'Back to the start page'))))))
    heading.focus()
    announce('The event was erased.')
  })
  const eraseCard = h('section', { class: 'card erase', 'aria-labelledby': 'erase-h' },
    h('h2', { id: 'erase-h', text: 'After the workshop' }),
    h('p', { class: 'hint', id: 'erase-help', text: ERASE_MEANS }),
    eraseButton,
    eraseDialog.el)

  const reachBox = h('div', { class: 'reach-box' })
  const ideas = ideasPanel({ eventId, token, sectionTitle: (id) => sectionTitles[id] || id })
  replace(root, h('div', { class: 'dashboard-page' },
    h('header', { class: 'site-header' }, h('p', { class: 'brand' }, h('a', { href: '/' }, 'Candor')), title, headerCode, status),
    h('main', {},
      reachBox,
      broadcast,
      h('section', { 'aria-labelledby': 'rooms-title', class: 'rooms' },
        h('h2', { id: 'rooms-title', text: 'Rooms' }),
        grid,
        addRoom),
      ideas.el,
      linksCard,
      exportsCard,
      eraseCard)))

  const cardContext = {
    eventId,
    token,
    boardLink,
    sectionTitle: (id) => sectionTitles[id] || id,
    // A projector for a breakout room's own screen: it shows the notes kept in that room, too.
    projectorLink: (roomId) => links?.viewer_url ? projectorFor(links.viewer_url, roomId) : null,
    refresh: () => refresh()
  }

  function render (rooms) {
    roomCount = rooms.length
    const seen = new Set()
    for (const room of rooms) {
      seen.add(room.id)
      let entry = cards.get(room.id)
      if (!entry) {
        entry = roomCard(room, cardContext)
        cards.set(room.id, entry)
      }
      entry.update(room)
    }
    for (const [id, entry] of cards) {
      if (!seen.has(id)) {
        entry.el.remove()
        cards.delete(id)
      }
    }
    const order = [...rooms].sort((a, b) => (a.kind === 'plenary') - (b.kind === 'plenary'))
    order.forEach((room, index) => {
      const el = cards.get(room.id).el
      if (grid.children[index] !== el) grid.insertBefore(el, grid.children[index] || null)
    })
  }

  let timer = 0
  let erased = false
  async function refresh () {
    clearTimeout(timer)
    if (erased) return
    try {
      const { rooms } = await api.rooms(eventId, token)
      render(rooms)
      updateRoomPick(rooms)
      setText(status, `Live — updated ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`)
    } catch (error) {
      setText(status, `Could not update: ${error.message}`)
      if (error.status === 401 || error.status === 403) return
    }
    timer = setTimeout(refresh, POLL_MS)
  }

  try {
    const event = await api.event(eventId, token)
    if (event.join_code) showLinks(event)
    else replace(linksBody, h('p', { class: 'error', text: 'The server did not send the links to share.' }))
    updateRoomPick(event.rooms || [])
    setText(title, `Facilitator dashboard — ${event.title}`)
    document.title = `${event.title} · dashboard — Candor`
    const { templates } = await api.templates()
    const template = templates.find((t) => t.id === event.template)
    sectionTitles = Object.fromEntries((template?.sections || []).map((s) => [s.id, s.title]))
  } catch (error) {
    setText(status, error.message)
  }
  refresh()
}

/**
 * "Are you sure?" for an action that changes things for everyone: says what happens, runs `action` on
 * confirmation and stays open with the error if it fails. { id, title, what: [nodes], confirm, failed, action }
 */
function actionDialog ({ id, title, what, confirm: label, failed, action }) {
  const problem = h('p', { class: 'error', role: 'alert', hidden: true })
  const confirm = h('button', { type: 'button', class: 'danger' }, label)
  const cancel = h('button', { type: 'button' }, 'Cancel')
  const dialog = h('dialog', { class: 'dialog', id: `${id}-dialog`, 'aria-labelledby': `${id}-dialog-h`, 'aria-describedby': `${id}-what` },
    h('h2', { id: `${id}-dialog-h`, text: title }),
    h('div', { id: `${id}-what` }, ...what),
    problem,
    h('div', { class: 'row end' }, cancel, confirm))
  let opener = null
  cancel.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => opener?.isConnected && opener.focus())
  confirm.addEventListener('click', async () => {
    confirm.disabled = cancel.disabled = true
    problem.hidden = true
    try {
      await action()
      dialog.close()
    } catch (error) {
      problem.textContent = `${failed}: ${error.message}`
      problem.hidden = false
    } finally {
      confirm.disabled = cancel.disabled = false
    }
  })
  return {
    el: dialog,
    open (from) {
      opener = from
      problem.hidden = true
      dialog.showModal()
      cancel.focus()
    }
  }
}

const ERASE_MEANS = 'Erasing deletes every board of this event, with all its notes, votes, drafts and links, from the server for good: nobody, you included, can open or export them again.'

/** "Are you sure?" for erasing: says in one sentence what erasing means. */
const eraseConfirmation = (erase) => actionDialog({
  id: 'erase',
  title: 'Erase this event?',
  what: [h('p', { text: `${ERASE_MEANS} Export what you want to keep first.` })],
  confirm: 'Erase the event for good',
  failed: 'Not erased',
  action: erase
})

/** "Are you sure?" for revoking: says what happens to everyone. */
const revokeConfirmation = (revoke) => actionDialog({
  id: 'revoke',
  title: 'Revoke participant access?',
  what: [
    h('p', { text: 'Everyone who has joined is disconnected straight away, and the current join code and join link stop working.' }),
    h('p', {}, h('strong', { text: 'Everyone must rejoin with the new code' }), ', which appears on this dashboard once you confirm. Read it out or show it again. Their notes stay on the boards.'),
    h('p', { text: 'The projector link changes too: open the new one on the projector.' })
  ],
  confirm: 'Revoke and make a new code',
  failed: 'Not revoked',
  action: revoke
})

/** The projector link of one room: the event's viewer link pointed at that room's board. */
function projectorFor (viewerUrl, roomId) {
  const url = new URL(viewerUrl, location.origin)
  url.pathname = `/board/${encodeURIComponent(roomId)}`
  return url.pathname + url.search
}
