// Joining an event: read the ground rules, agree, optionally give a name, then choose a room.
import { h, announce, replace } from '../dom.js'
import { api, memory } from '../api.js'

export function boardUrl (roomId) {
  return `/board/${encodeURIComponent(roomId)}`
}

export async function joinPage (root, { eventId, code }) {
  document.title = 'Join — Candor'
  const main = h('main', { class: 'narrow', id: 'join-main' }, h('p', { role: 'status', text: 'Loading…' }))
  replace(root, h('div', { class: 'join-page' },
    h('header', { class: 'site-header' }, h('p', { class: 'brand' }, h('a', { href: '/' }, 'Candor'))),
    main))

  const known = await stillValid(eventId, memory.participant(eventId))
  let info
  try {
    info = await api.joinInfo(eventId, code || '')
  } catch (error) {
    if (known) return roomPicker(main, eventId, known, null)
    replace(main, h('h1', { text: 'This join link does not work' }),
      h('p', { class: 'error', role: 'alert', text: error.message }),
      codeForm(eventId))
    return
  }
  document.title = `Join “${info.title}” — Candor`
  if (known) return roomPicker(main, eventId, known, info)

  const agreement = info.agreement
  const agree = h('input', { type: 'checkbox', id: 'agree', required: Boolean(agreement) })
  const name = h('input', { id: 'join-name', maxlength: '80', autocomplete: 'nickname', 'aria-describedby': 'join-name-help' })
  const error = h('p', { class: 'error', role: 'alert', hidden: true })
  const button = h('button', { type: 'submit', class: 'primary' }, 'Join the session')
  const form = h('form', { class: 'card', 'aria-labelledby': 'join-h', novalidate: true },
    h('h1', { id: 'join-h', text: info.title }),
    agreement
      ? h('section', { class: 'agreement', 'aria-labelledby': 'agreement-h' },
        h('h2', { id: 'agreement-h', text: agreement.title || 'Ground rules' }),
        h('p', { text: 'These ground rules help make a safe space to share stories of failure as well as success.' }),
        agreement.intro ? h('p', { class: 'intro', text: agreement.intro }) : null,
        h('ul', {}, (agreement.items || []).map((item) => h('li', { text: item }))),
        h('label', { class: 'check big', for: 'agree' }, agree, ' I agree to these ground rules'))
      : info.retention ? h('p', { class: 'retention hint', text: info.retention }) : null,
    h('label', { for: 'join-name', text: 'Your name (optional)' }),
    name,
    h('p', { class: 'hint', id: 'join-name-help', text: 'Your notes are anonymous unless you choose to sign one; your name is only shown on notes you sign and in the list of who is here.' }),
    error,
    button)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.hidden = true
    if (agreement && !agree.checked) {
      error.textContent = 'To join, please read and agree to the ground rules.'
      error.hidden = false
      agree.focus()
      return
    }
    button.disabled = true
    try {
      const joined = await api.join(eventId, code, name.value.trim() || null)
      const entry = { token: joined.token, participant: joined.participant, name: name.value.trim() || null }
      memory.rememberParticipant(eventId, entry)
      announce('You have joined. Choose your room.')
      roomPicker(main, eventId, entry, { ...info, rooms: joined.rooms })
    } catch (failure) {
      error.textContent = failure.message
      error.hidden = false
      button.disabled = false
    }
  })
  replace(main, form)
}

/** The remembered participant entry, unless the facilitator revoked its token (then it is forgotten). */
async function stillValid (eventId, known) {
  if (!known) return null
  try {
    await api.event(eventId, known.token)
    return known
  } catch (error) {
    if (error.status !== 401 && error.status !== 403) return known // offline: let the board page say so
    memory.rememberParticipant(eventId, null)
    return null
  }
}

function codeForm (eventId) {
  const input = h('input', { id: 'retry-code', autocapitalize: 'characters', maxlength: '12' })
  const form = h('form', { class: 'card' },
    h('label', { for: 'retry-code', text: 'Join code' }), input,
    h('button', { type: 'submit', class: 'primary' }, 'Try this code'))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    location.href = `/join/${encodeURIComponent(eventId)}?code=${encodeURIComponent(input.value.trim().toUpperCase())}`
  })
  return form
}

async function roomPicker (main, eventId, entry, info) {
  let rooms = info?.rooms
  if (!rooms) {
    try {
      const event = await api.event(eventId, entry.token)
      rooms = event.rooms
      info = { ...info, title: event.title }
    } catch (error) {
      replace(main, h('p', { class: 'error', role: 'alert', text: error.message }))
      return
    }
  }
  const ordered = [...rooms].sort((a, b) => (a.kind === 'plenary') - (b.kind === 'plenary'))
  const heading = h('h1', { id: 'rooms-h', tabindex: '-1', text: info?.title ? `Choose your room — ${info.title}` : 'Choose your room' })
  replace(main, h('section', { class: 'card', 'aria-labelledby': 'rooms-h' },
    heading,
    h('p', { text: `You are in as ${entry.name || 'an anonymous participant'}. The facilitator will tell you which room to join.` }),
    h('ul', { class: 'room-list' }, ordered.map((room) => h('li', {},
      h('a', { class: 'button room-link', href: boardUrl(room.id) },
        room.label, room.kind === 'plenary' ? h('span', { class: 'hint', text: ' — everyone together' }) : null)))),
    h('p', { class: 'hint' }, 'Not you? ', h('button', {
      type: 'button',
      class: 'link',
      onclick: () => { memory.rememberParticipant(eventId, null); location.reload() }
    }, 'Join again as someone else'))))
  heading.focus()
}
