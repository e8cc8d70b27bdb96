// Links to share, each with a copy button and a QR code drawn here from the bundled library.
import qrcode from 'qrcode-generator'
import { h, announce } from '../dom.js'

const SVG = 'http://www.w3.org/2000/svg'

/** The QR code of `text` as an inline SVG image with a text alternative. */
export function qrSvg (text, label) {
  const qr = qrcode(0, 'M')
  qr.addData(text)
  qr.make()
  const n = qr.getModuleCount()
  const margin = 4
  const size = n + margin * 2
  let d = ''
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (qr.isDark(row, col)) d += `M${col + margin} ${row + margin}h1v1h-1z`
    }
  }
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', label)
  svg.setAttribute('class', 'qr')
  svg.setAttribute('shape-rendering', 'crispEdges')
  const background = document.createElementNS(SVG, 'rect')
  background.setAttribute('width', String(size))
  background.setAttribute('height', String(size))
  background.setAttribute('fill', '#fff')
  const modules = document.createElementNS(SVG, 'path')
  modules.setAttribute('d', d)
  modules.setAttribute('fill', '#000')
  svg.append(background, modules)
  return svg
}

async function copyText (text, input) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // No clipboard API outside secure contexts: select the text and use the old command.
    input.select()
    try {
      return document.execCommand('copy')
    } catch {
      return false
    }
  }
}

let linkCount = 0

/** One link: a label, what it is for, the URL (read-only, selectable), Copy, and its QR code. */
export function shareLink ({ label, help, url, qrOpen = true, warning = null }) {
  const id = `link-${++linkCount}`
  const input = h('input', { id, class: 'link-url', type: 'text', readonly: true, value: url, 'aria-describedby': `${id}-help` })
  const copied = h('span', { class: 'hint', 'aria-hidden': 'true' })
  const button = h('button', {
    type: 'button',
    class: 'primary',
    'aria-label': `Copy the ${label.toLowerCase()}`,
    onclick: async () => {
      const ok = await copyText(url, input)
      copied.textContent = ok ? 'Copied' : 'Select the link and copy it'
      announce(ok ? `${label} copied` : 'Copying is not allowed here: the link is selected, copy it with your keyboard')
      setTimeout(() => { copied.textContent = '' }, 3000)
    }
  }, 'Copy')
  const qr = qrSvg(url, `QR code of the ${label.toLowerCase()}`)
  const qrBlock = qrOpen
    ? h('div', { class: 'qr-wrap' }, qr)
    : h('details', { class: 'qr-wrap' }, h('summary', {}, 'Show QR code'), qr)
  return h('div', { class: 'share-link' },
    h('h3', { text: label }),
    h('p', { class: 'hint', id: `${id}-help`, text: help }),
    warning ? h('p', { class: 'warning', text: warning }) : null,
    h('div', { class: 'row' }, h('label', { for: id, class: 'visually-hidden' }, label), input, button, copied),
    qrBlock)
}

/** Said plainly when the links reach only this computer (the server listens on 127.0.0.1). */
export function reachWarning (reach) {
  return h('div', { class: 'reach-warning', role: 'note' },
    h('p', {}, h('strong', { text: 'Phones and other computers cannot open these links yet. ' }),
      `The server only listens on this computer (${new URL(reach.base_url).host}).`),
    h('p', {}, 'To open it to the room, stop it (Ctrl+C) and start it again with ', h('code', { text: reach.open_command || './scripts/serve --host 0.0.0.0' }),
      ' and open this page again: the links and QR codes then carry an address phones can open. Behind a proxy or with a domain name, add ', h('code', { text: '--public-url https://your.address' }), '.'))
}

/** The code and the three links of an event: {join_code, join_url, viewer_url, facilitator_url, reach}. */
export function sharePanel (created) {
  return h('div', { class: 'share-panel' },
    created.reach?.loopback_only ? reachWarning(created.reach) : null,
    h('p', { class: 'join-code' }, 'Join code ', h('strong', { text: created.join_code })),
    h('p', { class: 'hint' }, `People can type this code on the start page, ${location.host}, instead of opening the link.`),
    h('div', { class: 'share-grid' },
      shareLink({
        label: 'Participant join link',
        help: 'For everyone taking part: they read the ground rules, agree, and choose a name or stay anonymous.',
        url: created.join_url
      }),
      shareLink({
        label: 'Projector link',
        help: 'Read-only, large type: open it on the screen in the room.',
        url: created.viewer_url,
        qrOpen: false
      }),
      shareLink({
        label: 'Facilitator link',
        help: 'Your dashboard of every room. Keep it for yourself and co-facilitators.',
        url: created.facilitator_url,
        qrOpen: false,
        warning: 'Anyone with this link can run the event: do not project or post it.'
      })))
}
