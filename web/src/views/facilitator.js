// Facilitator tools on the board: phase, lock, a countdown everyone sees, and per-note actions
// (cluster, move or copy to the plenary).
import { h, clock, replace } from '../dom.js'
import { PHASES, PHASE_LABELS } from '../board-model.js'

const TIMER_CHOICES_MIN = [1, 2, 3, 5, 10, 15, 20, 30]

/** actions: setPhase(p), setLocked(b), setShowTotals(b), startTimer(s), stopTimer(), dashboardUrl, follow */
export function facilitatorBar (actions) {
  const phaseInputs = PHASES.map((phase) => h('label', { class: 'segment' },
    h('input', { type: 'radio', name: 'phase', value: phase, onchange: () => actions.setPhase(phase) }),
    h('span', { text: PHASE_LABELS[phase] })))
  const lock = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => actions.setLocked(lock.getAttribute('aria-pressed') !== 'true') }, 'Lock board')
  const minutes = h('select', { id: 'timer-minutes', 'aria-label': 'Timer length' },
    TIMER_CHOICES_MIN.map((m) => h('option', { value: String(m * 60), selected: m === 5 }, `${m} min`)))
  const start = h('button', { type: 'button', onclick: () => actions.startTimer(Number(minutes.value)) }, 'Start timer')
  const stop = h('button', { type: 'button', onclick: () => actions.stopTimer(), disabled: true }, 'Stop timer')
  const showTotals = h('input', { type: 'checkbox', id: 'show-totals', onchange: () => actions.setShowTotals(showTotals.checked) })
  const el = h('section', { class: 'toolbar facilitator-bar', 'aria-label': 'Facilitator tools' },
    h('fieldset', { class: 'segmented' }, h('legend', { text: 'Phase' }), phaseInputs),
    h('div', { class: 'tool-group' }, lock),
    h('div', { class: 'tool-group' }, minutes, start, stop),
    h('label', { class: 'check tool-group', for: 'show-totals' }, showTotals, 'Show vote totals while voting'),
    actions.follow?.el,
    actions.dashboardUrl ? h('a', { class: 'button', href: actions.dashboardUrl }, 'All rooms') : null)

  function update (meta) {
    for (const label of phaseInputs) {
      const input = label.firstChild
      input.checked = input.value === (meta.phase || 'collect')
    }
    const locked = Boolean(meta.locked)
    lock.setAttribute('aria-pressed', String(locked))
    lock.textContent = locked ? 'Unlock board' : 'Lock board'
    stop.disabled = !meta.timer
    showTotals.checked = meta.hide_totals === false
    actions.follow?.refresh()
  }
  return { el, update, follow: actions.follow }
}

/**
 * A dialog with what a facilitator can do to one note.
 * ctx: clustersOf(section) -> [{id, label}], setCluster(id, clusterId|null),
 *      toPlenary(id, {move}) -> Promise, isBreakout()
 */
export function noteDialog (ctx) {
  const title = h('h2', { id: 'note-dialog-title', text: 'Note' })
  const quote = h('blockquote', { class: 'quote' })
  const cluster = h('select', { id: 'note-dialog-cluster' })
  const status = h('p', { class: 'hint', role: 'status' })
  const copy = h('button', { type: 'button' }, 'Copy to plenary')
  const move = h('button', { type: 'button' }, 'Move to plenary')
  const plenary = h('div', { class: 'dialog-block' }, h('h3', { text: 'Plenary' }),
    h('p', { class: 'hint', id: 'plenary-help' }), h('div', { class: 'row' }, copy, move))
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'note-dialog-title' },
    h('form', { method: 'dialog', class: 'stack-form' },
      title, quote,
      h('div', { class: 'dialog-block' },
        h('label', { for: 'note-dialog-cluster', text: 'Cluster' }),
        h('div', { class: 'row' }, cluster, h('button', { type: 'button', onclick: () => { ctx.setCluster(current, cluster.value || null); dialog.close() } }, 'Apply'))),
      plenary, status,
      h('div', { class: 'row end' }, h('button', { value: 'close' }, 'Close'))))
  let current = null

  async function send (isMove) {
    copy.disabled = move.disabled = true
    status.textContent = isMove ? 'Moving to the plenary…' : 'Copying to the plenary…'
    try {
      await ctx.toPlenary(current, { move: isMove })
      status.textContent = ''
      dialog.close()
    } catch (error) {
      status.textContent = `Not done: ${error.message}`
      copy.disabled = move.disabled = false
    }
  }
  copy.addEventListener('click', () => send(false))
  move.addEventListener('click', () => send(true))

  function open (id, note) {
    current = id
    title.textContent = note.author_name ? `Note by ${note.author_name}` : 'Anonymous note'
    quote.textContent = note.text
    replace(cluster, h('option', { value: '' }, 'No cluster'),
      ctx.clustersOf(note.section).map((c) => h('option', { value: c.id, selected: c.id === note.cluster }, c.label || 'Untitled cluster')))
    const shareable = note.scope === 'event' || note.scope === 'public'
    plenary.hidden = !ctx.isBreakout()
    copy.disabled = move.disabled = !shareable
    plenary.querySelector('#plenary-help').textContent = shareable
      ? 'The note keeps its author and shows which room it came from.'
      : 'Its author kept this note in this room, so it cannot go to the plenary.'
    if (shareable) plenary.querySelector('#plenary-help').textContent += ' Its votes go with it.'
    status.textContent = ''
    dialog.showModal()
  }
  return { el: dialog, open }
}

/** The countdown shown to everyone; ticks once a second while a timer runs. */
export function timerDisplay () {
  const el = h('p', { class: 'timer', hidden: true, role: 'timer' })
  const said = h('span', { class: 'visually-hidden', 'aria-live': 'polite' })
  let timer = null
  let interval = 0
  function tick () {
    if (!timer) return
    const left = (timer.ends_at_ms - Date.now()) / 1000
    el.textContent = left > 0 ? `Time left ${clock(left)}` : 'Time is up'
    el.classList.toggle('ended', left <= 0)
    if (left <= 0) {
      clearInterval(interval)
      interval = 0
      said.textContent = 'Time is up'
    }
  }
  function update (next) {
    const same = JSON.stringify(next) === JSON.stringify(timer)
    if (same) return
    timer = next && typeof next.ends_at_ms === 'number' ? next : null
    clearInterval(interval)
    interval = 0
    el.hidden = !timer
    if (timer) {
      said.textContent = `Timer started: ${Math.round((timer.duration_s || 0) / 60)} minutes`
      tick()
      interval = setInterval(tick, 1000)
    } else {
      said.textContent = ''
    }
  }
  return { el: h('div', { class: 'timer-wrap' }, el, said), update }
}
