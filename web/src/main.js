// Candor's browser client: a small router over the pages (start, join, board, dashboard, projector).
import { h, replace } from './dom.js'
import { claimsOf, eventOfRoom, isExpired, memory } from './api.js'
import { startPage } from './views/start.js'
import { joinPage } from './views/join.js'
import { boardPage } from './views/board.js'
import { dashboardPage } from './views/dashboard.js'
import { projectorPage } from './views/projector.js'

function problem (root, title, message) {
  document.title = `${title} — Candor`
  replace(root, h('main', { class: 'narrow' },
    h('h1', { text: title }),
    h('p', { role: 'alert', text: message }),
    h('p', {}, h('a', { class: 'button', href: '/' }, 'Go to the start page'))))
}

function route () {
  const root = document.getElementById('app')
  const params = new URLSearchParams(location.search)
  const path = location.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  if (path.length === 0 && !params.get('room')) return startPage(root)
  if (path[0] === 'join' && path[1]) return joinPage(root, { eventId: path[1], code: params.get('code') || '' })
  if (path[0] === 'event' && path[1]) {
    const token = params.get('token')
    const claims = token && claimsOf(token)
    if (!claims || claims.r !== 'facilitator') return problem(root, 'Facilitator link needed', 'Open the facilitator link you got when the event was created.')
    if (isExpired(claims)) return problem(root, 'This link has expired', 'Create a new event, or ask whoever created it for a fresh link.')
    return dashboardPage(root, { eventId: path[1], token })
  }
  const room = path[0] === 'board' ? path[1] : params.get('room')
  if (room) {
    const token = params.get('token') || memory.participant(eventOfRoom(room))?.token
    const claims = token && claimsOf(token)
    if (!claims) return problem(root, 'Join the session first', 'Open the join link the facilitator shared (or scan its QR code), agree to the ground rules, then choose this room.')
    if (isExpired(claims)) return problem(root, 'This link has expired', 'Ask the facilitator for a new join link.')
    if (claims.r === 'viewer') return projectorPage(root, { room, token, claims, screen: params.get('screen') })
    return boardPage(root, { room, token, claims })
  }
  return problem(root, 'Page not found', 'There is nothing at this address.')
}

route()
