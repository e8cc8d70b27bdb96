// Who is here (awareness: names, initials, role) and their live cursors on the board.
import { h, setText, plural, replace } from '../dom.js'

const AVATAR_COLOURS = ['#8a3b12', '#1f5f8b', '#5b2a86', '#1d6b3a', '#9c2a4d', '#6b5a00', '#0f6b6b', '#4a4a9c']
const MAX_AVATARS = 6
const CURSOR_INTERVAL_MS = 60

export function colourFor (key) {
  let hash = 0
  for (const ch of String(key)) hash = (hash * 31 + ch.charCodeAt(0)) | 0
  return AVATAR_COLOURS[Math.abs(hash) % AVATAR_COLOURS.length]
}

export function initials (name) {
  if (!name) return '?'
  const words = name.trim().split(/\s+/)
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : '')).toUpperCase()
}

/** What this person shows others: never their pseudonym, only the name they chose. */
export function presenceFor (claims) {
  const role = claims.r
  const name = role === 'facilitator' ? (claims.n || 'Facilitator') : role === 'viewer' ? 'Projector' : claims.n || null
  return { user: { name: name || 'Anonymous', initials: role === 'viewer' ? 'P' : initials(name), role, colour: colourFor(claims.s) }, cursor: null }
}

export class PresenceView {
  constructor ({ layer, selfLabel }) {
    this.layer = layer
    this.selfLabel = selfLabel
    this.avatars = h('ul', { class: 'avatars', 'aria-hidden': 'true' })
    this.summary = h('span', { class: 'presence-count' })
    this.list = h('ul', { class: 'presence-list' })
    this.el = h('details', { class: 'presence' },
      h('summary', {}, this.avatars, this.summary),
      h('div', { class: 'popover' }, h('p', { class: 'popover-title', text: 'Here now' }), this.list))
    this.signature = ''
    this.cursors = new Map() // clientID -> element
    this.awareness = null
  }

  bind (awareness) {
    this.awareness?.off('change', this.onChange)
    this.awareness = awareness
    this.onChange = () => this.render()
    awareness.on('change', this.onChange)
    for (const el of this.cursors.values()) el.remove()
    this.cursors.clear()
    this.signature = ''
    this.render()
  }

  render () {
    const awareness = this.awareness
    const people = []
    for (const [clientId, state] of awareness.getStates()) {
      if (state?.user) people.push({ clientId, self: clientId === awareness.clientID, ...state.user, cursor: state.cursor })
    }
    people.sort((a, b) => Number(b.self) - Number(a.self) || String(a.name).localeCompare(String(b.name)))
    const signature = JSON.stringify(people.map((p) => [p.clientId, p.name, p.role, p.initials]))
    if (signature !== this.signature) {
      this.signature = signature
      const anonymous = people.filter((p) => p.role === 'participant' && p.name === 'Anonymous').length
      setText(this.summary, `${plural(people.length, 'person', 'people')} here${anonymous ? ` (${anonymous} anonymous)` : ''}`)
      replace(this.avatars, ...people.slice(0, MAX_AVATARS).map((p) =>
        h('li', { class: 'avatar', style: `background:${p.colour}`, title: p.name }, p.initials)),
      people.length > MAX_AVATARS ? h('li', { class: 'avatar more' }, `+${people.length - MAX_AVATARS}`) : null)
      replace(this.list, ...people.map((p) => h('li', {},
        h('span', { class: 'avatar', style: `background:${p.colour}`, 'aria-hidden': 'true' }, p.initials),
        ` ${p.name}${p.self ? ` (${this.selfLabel})` : ''}${p.role === 'facilitator' ? ' · facilitator' : p.role === 'viewer' ? ' · projector' : ''}`)))
    }
    this.renderCursors(people)
  }

  renderCursors (people) {
    const seen = new Set()
    const canvasMode = this.layer.ctx.canvasMode()
    for (const p of people) {
      const cursor = p.cursor
      const canvas = cursor && this.layer.sections.get(cursor.section)?.canvas
      if (p.self || !canvasMode || !canvas) continue
      seen.add(p.clientId)
      let el = this.cursors.get(p.clientId)
      if (!el) {
        el = h('div', { class: 'cursor', 'aria-hidden': 'true' }, h('span', { class: 'cursor-name' }))
        this.cursors.set(p.clientId, el)
      }
      el.style.setProperty('--who', p.colour)
      setText(el.firstChild, p.name)
      el.style.transform = `translate(${Math.round(cursor.x)}px, ${Math.round(cursor.y)}px)`
      if (el.parentNode !== canvas) canvas.append(el)
    }
    for (const [clientId, el] of this.cursors) {
      if (!seen.has(clientId)) {
        el.remove()
        this.cursors.delete(clientId)
      }
    }
  }
}

/** Send my pointer position over the board's canvases to others, a few times a second at most. */
export function trackCursor (root, layer, channelOf) {
  let last = 0
  let pending = null
  let timer = 0
  const send = () => {
    timer = 0
    last = Date.now()
    channelOf()?.setPresenceField('cursor', pending)
  }
  root.addEventListener('pointermove', (event) => {
    const canvas = event.target.closest?.('.canvas')
    if (!canvas || !layer.ctx.canvasMode()) return
    const box = canvas.getBoundingClientRect()
    pending = { section: canvas.dataset.section, x: event.clientX - box.left + canvas.scrollLeft, y: event.clientY - box.top + canvas.scrollTop }
    if (!timer) timer = setTimeout(send, Math.max(0, CURSOR_INTERVAL_MS - (Date.now() - last)))
  })
  root.addEventListener('pointerleave', () => {
    pending = null
    if (!timer) timer = setTimeout(send, 0)
  })
}
