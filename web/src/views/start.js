// The start page: join a session with its code, or create one and get the links to share.
import { h, announce, replace, setText } from '../dom.js'
import { api, memory } from '../api.js'
import { sharePanel, reachWarning } from './share.js'

/**
 * What someone typed to join: a pasted join link ("https://host/join/ev12?code=ABC" -> {eventId, code})
 * or only the code ("k7p q2m" -> {code: "K7PQ2M"}): case and spaces do not matter.
 */
export function parseJoin (text) {
  const trimmed = text.trim()
  if (trimmed.includes('/join/')) {
    try {
      const url = new URL(trimmed, location.origin)
      const eventId = url.pathname.match(/^\/join\/([A-Za-z0-9]+)\/?$/)?.[1]
      if (eventId) return { eventId, code: cleanCode(url.searchParams.get('code') || '') }
    } catch {
      // not a link after all: read it as a code
    }
  }
  return { eventId: null, code: cleanCode(trimmed) }
}

const cleanCode = (text) => text.replace(/[\s-]+/g, '').toUpperCase()
export const CODE_LENGTH = 6

export function startPage (root) {
  document.title = 'Candor — workshop boards'
  const joinError = h('p', { class: 'error', role: 'alert', hidden: true })
  const codeInput = h('input', {
    id: 'join-code',
    name: 'code',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    required: true,
    'aria-describedby': 'join-code-help'
  })
  const joinButton = h('button', { type: 'submit', class: 'primary' }, 'Continue')
  const joinForm = h('form', { class: 'card', 'aria-labelledby': 'join-title', novalidate: true },
    h('h2', { id: 'join-title', text: 'Join a session' }),
    h('p', { text: 'Scan the QR code in the room or open the link you were sent. Or type the code the facilitator shows:' }),
    h('label', { for: 'join-code', text: 'Join code (or paste the join link)' }), codeInput,
    h('p', { class: 'hint', id: 'join-code-help', text: 'Six letters and digits, like K7P Q2M. Capitals and spaces do not matter.' }),
    joinError,
    joinButton)
  const fail = (message) => {
    joinError.textContent = message
    joinError.hidden = false
    codeInput.setAttribute('aria-invalid', 'true')
    codeInput.focus()
  }
  codeInput.addEventListener('input', () => codeInput.removeAttribute('aria-invalid'))
  joinForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    joinError.hidden = true
    const { eventId, code } = parseJoin(codeInput.value)
    if (eventId) {
      location.href = `/join/${encodeURIComponent(eventId)}?code=${encodeURIComponent(code)}`
      return
    }
    if (!code) return fail('Type the join code the facilitator shows (or paste the join link).')
    if (!/^[A-Z0-9]+$/.test(code) || code.length !== CODE_LENGTH) {
      return fail(`A join code has ${CODE_LENGTH} letters and digits; “${code}” has ${code.length}. Check it with the facilitator.`)
    }
    joinButton.disabled = true
    setText(joinButton, 'Finding the session…')
    try {
      const found = await api.findByCode(code)
      location.href = `/join/${encodeURIComponent(found.event_id)}?code=${encodeURIComponent(code)}`
    } catch (error) {
      joinButton.disabled = false
      setText(joinButton, 'Continue')
      fail(error.status === 404
        ? `No session has the code ${code}. Check the letters with the facilitator: the code may have been replaced.`
        : error.message)
    }
  })

  const templateSelect = h('select', { id: 'create-template', name: 'template', 'aria-describedby': 'template-help' })
  const templateHelp = h('p', { class: 'hint', id: 'template-help' })
  const titleInput = h('input', { id: 'create-title', name: 'title', required: true, maxlength: '200', value: '' })
  const roomsInput = h('input', { id: 'create-rooms', name: 'rooms', type: 'number', min: '0', max: '50', value: '3', inputmode: 'numeric', 'aria-describedby': 'rooms-help' })
  // Shown only when the server asks for its creation token (candor serve --create-token).
  const tokenInput = h('input', { id: 'create-token', name: 'create-token', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'create-token-help' })
  const tokenField = h('div', { class: 'create-token', hidden: true },
    h('label', { for: 'create-token', text: 'Creation token' }), tokenInput,
    h('p', { class: 'hint', id: 'create-token-help', text: 'This server lets only people with its creation token create events. Ask whoever runs it.' }))
  const showTokenField = () => {
    tokenField.hidden = false
    tokenInput.required = true
  }
  const retention = h('p', { class: 'retention hint', id: 'retention', hidden: true })
  const createError = h('p', { class: 'error', role: 'alert', hidden: true })
  const createButton = h('button', { type: 'submit', class: 'primary' }, 'Create event')
  const createForm = h('form', { class: 'card', 'aria-labelledby': 'create-title-h', novalidate: true },
    h('h2', { id: 'create-title-h', text: 'Run a session' }),
    h('p', { text: 'Create an event for your workshop: a board per breakout room, plus a plenary board for everyone.' }),
    h('label', { for: 'create-title', text: 'Title' }), titleInput,
    h('label', { for: 'create-template', text: 'Template' }), templateSelect, templateHelp,
    h('label', { for: 'create-rooms', text: 'Breakout rooms' }), roomsInput,
    h('p', { class: 'hint', id: 'rooms-help', text: 'Groups of 5–12 people work best. You can add rooms during the session.' }),
    tokenField,
    createError,
    createButton)
  const createSection = h('section', { class: 'create' }, createForm)
  const reachBox = h('div', { class: 'reach-box' })
  createForm.insertBefore(reachBox, createForm.querySelector('label'))
  api.reach().then((reach) => { if (reach.loopback_only) replace(reachBox, reachWarning(reach)) }).catch(() => {})

  let templates = []
  const describe = () => {
    const t = templates.find((x) => x.id === templateSelect.value)
    templateHelp.textContent = t ? `${t.sections.length} sections${t.agreement ? ', with ground rules to agree to' : ''}. ${t.description || ''}` : ''
  }
  templateSelect.addEventListener('change', describe)
  api.info().then((info) => {
    if (info.create_token_required) showTokenField()
    if (info.retention) {
      retention.textContent = info.retention
      retention.hidden = false
    }
  }).catch(() => {
    // An older server: no token field, no retention to announce.
  })
  api.templates().then(({ templates: list }) => {
    templates = list
    replace(templateSelect, ...list.map((t) => h('option', { value: t.id }, t.title)))
    describe()
  }).catch((error) => {
    createError.textContent = `Templates could not be loaded: ${error.message}`
    createError.hidden = false
  })

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const title = titleInput.value.trim()
    const rooms = Number(roomsInput.value)
    createError.hidden = true
    if (!title) {
      createError.textContent = 'Give the event a title.'
      createError.hidden = false
      titleInput.focus()
      return
    }
    if (!Number.isInteger(rooms) || rooms < 0 || rooms > 50) {
      createError.textContent = 'Breakout rooms must be a whole number from 0 to 50.'
      createError.hidden = false
      roomsInput.focus()
      return
    }
    if (!tokenField.hidden && !tokenInput.value.trim()) {
      createError.textContent = 'Type the creation token of this server.'
      createError.hidden = false
      tokenInput.focus()
      return
    }
    createButton.disabled = true
    try {
      const created = await api.createEvent(title, templateSelect.value || 'beyond-hero-stories', rooms, tokenInput.value.trim() || null)
      memory.rememberCreated(created.event_id, {
        event_id: created.event_id, title: created.title, join_code: created.join_code, join_url: created.join_url,
        facilitator_url: created.facilitator_url, viewer_url: created.viewer_url, reach: created.reach, created_ms: Date.now()
      })
      const heading = h('h2', { id: 'created-title', tabindex: '-1', text: `“${created.title}” is ready` })
      replace(createSection, h('div', { class: 'card created', 'aria-labelledby': 'created-title' },
        heading,
        h('p', { text: 'Share the join link (or its QR code) with participants. Open the dashboard to watch every room.' }),
        h('p', { class: 'row' },
          h('a', { class: 'button primary', href: created.facilitator_url }, 'Open the facilitator dashboard'),
          h('a', { class: 'button', href: created.viewer_url, target: '_blank', rel: 'noopener' }, 'Open the projector view')),
        sharePanel(created)))
      heading.focus()
      announce('Event created. The links to share are below.')
    } catch (error) {
      createError.textContent = error.message
      createError.hidden = false
      createButton.disabled = false
      if (error.code === 'create_token_required') {
        showTokenField()
        tokenInput.focus()
      }
    }
  })

  replace(root, h('div', { class: 'start-page' },
    h('header', { class: 'site-header' },
      h('h1', {}, 'Candor'),
      h('p', { class: 'tagline', text: 'Boards for workshops where people share what went wrong, not only hero stories.' }),
      retention),
    h('main', { class: 'start-grid' }, h('section', { class: 'join' }, joinForm), createSection, recentEvents())))
}

function recentEvents () {
  const created = memory.allCreated()
  if (!created.length) return null
  return h('section', { class: 'card recent', 'aria-labelledby': 'recent-title' },
    h('h2', { id: 'recent-title', text: 'Events you created on this device' }),
    h('ul', {}, created.slice(0, 8).map((e) => h('li', {}, h('a', { href: e.facilitator_url }, e.title), ` · code ${e.join_code}`))))
}
