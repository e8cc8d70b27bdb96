// Tiny DOM helpers: build elements declaratively, announce to screen readers, format times.

/**
 * h('button', { class: 'x', onclick: fn, 'aria-label': '…' }, 'text', child)
 * Attributes starting with "on" become listeners; `text` sets textContent;
 * false/null attributes are left out; children may be strings, nodes or arrays.
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'text') el.textContent = value
    else if (key === 'class') el.className = value
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected') el[key] = value
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

function append (el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

/** Replace an element's children; null/false entries are skipped and arrays flattened. */
export function replace (el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

/** Set textContent only when it differs, so unchanged notes cause no DOM mutation. */
export function setText (el, text) {
  if (el.textContent !== text) el.textContent = text
}

/** Position an absolutely placed element at the board coordinates {x, y}, touching the DOM only on change. */
export function place (el, { x, y }) {
  const left = `${Number(x) || 0}px`
  const top = `${Number(y) || 0}px`
  if (el.style.left !== left) el.style.left = left
  if (el.style.top !== top) el.style.top = top
}

export function setAttr (el, name, value) {
  if (value === null || value === undefined || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name)
  } else if (el.getAttribute(name) !== String(value)) {
    el.setAttribute(name, String(value))
  }
}

export function toggleClass (el, name, on) {
  if (el.classList.contains(name) !== Boolean(on)) el.classList.toggle(name, Boolean(on))
}

let politeRegion = null
/** Say something to screen-reader users (and show it briefly in the toast area). */
export function announce (message, { urgent = false } = {}) {
  if (!politeRegion) {
    politeRegion = h('div', { class: 'visually-hidden', 'aria-live': 'polite', id: 'announcer' })
    document.body.append(politeRegion)
  }
  if (urgent) return toast(message, { urgent })
  politeRegion.textContent = ''
  // A fresh text node after a tick makes screen readers read repeated messages too.
  setTimeout(() => { politeRegion.textContent = message }, 30)
}

/** A message at the bottom of the screen, with an optional action button (e.g. Undo). */
export function toast (message, { urgent = false, action = null, timeoutMs = 6000 } = {}) {
  let area = document.getElementById('toasts')
  if (!area) {
    area = h('div', { id: 'toasts', class: 'toasts', role: 'region', 'aria-label': 'Messages' })
    document.body.append(area)
  }
  const item = h('div', { class: urgent ? 'toast urgent' : 'toast', role: urgent ? 'alert' : 'status' },
    h('span', { text: message }))
  if (action) {
    item.append(h('button', {
      type: 'button',
      class: 'link',
      onclick: () => { action.run(); item.remove() }
    }, action.label))
  }
  item.append(h('button', { type: 'button', class: 'icon', 'aria-label': 'Dismiss message', onclick: () => item.remove() }, '×'))
  area.append(item)
  if (timeoutMs) setTimeout(() => item.remove(), timeoutMs)
  return item
}

export function relativeTime (ms, now = Date.now()) {
  if (!ms) return 'no activity yet'
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 10) return 'just now'
  if (s < 60) return `${s} s ago`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  return `${Math.round(m / 60)} h ago`
}

export function clock (seconds) {
  const s = Math.max(0, Math.ceil(seconds))
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

export function plural (n, one, many = one + 's') {
  return `${n} ${n === 1 ? one : many}`
}

/** Whether a key press happened while typing (so single-key shortcuts must not fire). */
export function isTyping (event) {
  const t = event.target
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))
}
