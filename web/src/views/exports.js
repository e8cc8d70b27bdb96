// Downloading exports (facilitators): the file is fetched with the token in the Authorization
// header and saved from a Blob, so the token never appears in a URL that could land in logs.
import { h, announce, setText } from '../dom.js'
import { ApiError, fetchFile } from '../api.js'

export const FORMATS = [
  { id: 'md', label: 'Markdown', ext: '.md', help: 'a write-up' },
  { id: 'html', label: 'Slides', ext: '.html', help: 'a slide deck in one file' },
  { id: 'pptx', label: 'PowerPoint', ext: '.pptx', help: 'slides with provenance in the speaker notes' },
  { id: 'json', label: 'JSON', ext: '.json', help: 'for other tools' },
  { id: 'pdf', label: 'PDF', ext: '.pdf', help: 'the slides as a PDF (the server needs LibreOffice for this)' }
]

/** The moments an event export can be of: now, the end of a phase, or a time the facilitator picks. */
export const MOMENTS = [
  { id: '', label: 'Now' },
  { id: 'end-of-collect', label: 'End of collecting notes' },
  { id: 'end-of-reveal', label: 'End of the reveal' },
  { id: 'end-of-cluster', label: 'End of clustering' },
  { id: 'end-of-vote', label: 'End of the vote' },
  { id: 'time', label: 'A time…' }
]

export const ROOM_AUDIENCES = [
  { id: 'room', label: 'The room: every note on the board' },
  { id: 'public', label: 'The public: only notes marked public' }
]

export const EVENT_AUDIENCES = [
  { id: 'event', label: 'The event: notes shared with the event or public' },
  { id: 'public', label: 'The public: only notes marked public' }
]

/** Hand a Blob to the browser as a download named `filename`. */
export function saveBlob (blob, filename) {
  const url = URL.createObjectURL(blob)
  const link = h('a', { href: url, download: filename, hidden: true })
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

let groups = 0

/**
 * A labelled group of download buttons, one per format.
 * legend: what is exported; audiences: [{id, label}]; path(format, audience, at) -> URL path;
 * token: the facilitator token; before: controls placed first (e.g. a room picker);
 * moments: offer now / the end of a phase / a time; preview: offer the slides in the page before downloading.
 */
export function exportGroup ({ legend, help = null, audiences, path, token, before = null, moments = false, preview = false }) {
  const id = `export-${++groups}`
  const legendEl = h('legend', { text: legend })
  const audience = h('select', { id: `${id}-audience`, name: 'audience' },
    audiences.map((a) => h('option', { value: a.id }, a.label)))
  const status = h('p', { class: 'hint export-status', role: 'status' })
  const moment = moments ? momentPicker(id) : null
  let busy = false
  const buttons = FORMATS.map((format) => h('button', {
    type: 'button',
    class: 'export-format',
    'data-format': format.id,
    title: `Download ${format.help}`,
    onclick: (event) => run(format, event.currentTarget)
  }, `${format.label} (${format.ext})`))

  function target (format) {
    const at = moment ? moment.value() : null
    return path(format, audience.value, at)
  }

  async function run (format, button) {
    if (busy) return
    let where
    try {
      where = target(format.id)
    } catch (error) {
      setText(status, error.message)
      return
    }
    busy = true
    button.setAttribute('aria-busy', 'true')
    setText(status, `Preparing ${format.label}…`)
    try {
      const file = await fetchFile(where, token)
      const name = file.filename || `candor-export${format.ext}`
      saveBlob(file.blob, name)
      setText(status, `Downloaded ${name}.`)
    } catch (error) {
      setText(status, `Not downloaded: ${error.message}`)
      announce(`${format.label} not downloaded: ${error.message}`)
    } finally {
      busy = false
      button.removeAttribute('aria-busy')
    }
  }

  const slides = preview ? previewPanel(id, () => target('html'), token, status) : null
  const el = h('fieldset', { class: 'export-group', id },
    legendEl,
    help ? h('p', { class: 'hint', text: help }) : null,
    before,
    h('div', { class: 'row' }, h('label', { for: audience.id, text: 'Audience' }), audience),
    moment?.el,
    slides ? h('div', { class: 'row' }, slides.button) : null,
    h('div', { class: 'row export-buttons' }, buttons),
    status,
    slides?.el)
  return { el, setLegend: (text) => setText(legendEl, text) }
}

/** "Now", the end of a phase, or a time (the browser's local time, sent as ISO 8601 UTC). */
function momentPicker (id) {
  const select = h('select', { id: `${id}-moment`, name: 'moment' }, MOMENTS.map((m) => h('option', { value: m.id }, m.label)))
  const time = h('input', { id: `${id}-time`, type: 'datetime-local', step: '60', 'aria-label': 'Time to export the event as it stood' })
  const timeRow = h('div', { class: 'row', hidden: true }, h('label', { for: time.id, text: 'As it stood at' }), time)
  select.addEventListener('change', () => { timeRow.hidden = select.value !== 'time' })
  function value () {
    if (select.value !== 'time') return select.value || null
    const when = time.value ? new Date(time.value) : null
    if (!when || Number.isNaN(when.getTime())) throw new Error('Choose the time to export the event as it stood then.')
    return when.toISOString()
  }
  const el = h('div', {},
    h('div', { class: 'row' }, h('label', { for: select.id, text: 'Moment' }), select),
    timeRow)
  return { el, value }
}

/** The html deck shown in the page, sandboxed (its script runs, nothing else of the page is reachable). */
function previewPanel (id, where, token, status) {
  const frame = h('iframe', { class: 'export-preview-frame', title: 'Slide preview: arrow keys move between slides', sandbox: 'allow-scripts' })
  const close = h('button', { type: 'button', onclick: () => hide() }, 'Close the preview')
  const el = h('section', { class: 'export-preview', id: `${id}-preview`, 'aria-label': 'Slide preview', hidden: true },
    h('div', { class: 'row' }, h('p', { class: 'hint', text: 'The slides as they will be downloaded. Click a slide or use the arrow keys to move.' }), close),
    frame)
  const button = h('button', { type: 'button', 'aria-controls': el.id, 'aria-expanded': 'false', onclick: () => show() }, 'Preview the slides')
  async function show () {
    let path
    try {
      path = where()
    } catch (error) {
      setText(status, error.message)
      return
    }
    setText(status, 'Preparing the preview…')
    try {
      const file = await fetchFile(path, token)
      frame.srcdoc = await file.blob.text()
      el.hidden = false
      button.setAttribute('aria-expanded', 'true')
      setText(status, 'Preview ready below.')
      frame.addEventListener('load', () => frame.focus(), { once: true })
    } catch (error) {
      setText(status, `No preview: ${error.message}`)
    }
  }
  function hide () {
    el.hidden = true
    frame.removeAttribute('srcdoc')
    button.setAttribute('aria-expanded', 'false')
    button.focus()
  }
  return { el, button }
}

// -- what the facilitator tells about the event, for the exports --------------------------------

const splitLines = (text) => text.split('\n').map((line) => line.trim()).filter(Boolean)

/** "Name: what they do" per line -> [{name, about}] */
export function parseFacilitators (text) {
  return splitLines(text).map((line) => {
    const cut = line.indexOf(':')
    const name = (cut < 0 ? line : line.slice(0, cut)).trim()
    const about = cut < 0 ? '' : line.slice(cut + 1).trim()
    return about ? { name, about } : { name }
  }).filter((f) => f.name)
}

/**
 * A form for the event's details (who ran it, where, when, how many took part, what next), which the
 * event export shows first and last. load() and save(details) each resolve to the stored details.
 */
export function eventDetailsForm ({ load, save }) {
  const field = (id, label, control, hint = null) => h('div', { class: 'detail-field' },
    h('label', { for: id, text: label }), control, hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null)
  const question = h('textarea', { id: 'details-question', rows: '2', maxlength: '500' })
  const date = h('input', { id: 'details-date', type: 'date' })
  const where = h('input', { id: 'details-where', maxlength: '300' })
  const facilitators = h('textarea', { id: 'details-facilitators', rows: '3', 'aria-describedby': 'details-facilitators-hint' })
  const participants = h('input', { id: 'details-participants', type: 'number', min: '0', max: '100000', step: '1', inputmode: 'numeric' })
  const about = h('input', { id: 'details-participants-about', maxlength: '300' })
  const next = h('textarea', { id: 'details-next', rows: '3', 'aria-describedby': 'details-next-hint' })
  const status = h('p', { class: 'hint', role: 'status' })
  const form = h('form', { class: 'event-details', 'aria-labelledby': 'details-h' },
    h('h3', { id: 'details-h', text: 'About the event (shown first in the event export)' }),
    field(question.id, 'The question the session asked', question),
    h('div', { class: 'detail-pair' }, field(date.id, 'Date', date), field(where.id, 'Where', where)),
    field(facilitators.id, 'Who ran it', facilitators, 'One person a line: Name: what they do'),
    h('div', { class: 'detail-pair' }, field(participants.id, 'How many took part', participants), field(about.id, 'Who they were', about)),
    field(next.id, 'What next', next, 'One step a line; the export ends with them'),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save the details')),
    status)

  function fill (details) {
    question.value = details.question || ''
    date.value = details.date || ''
    where.value = details.where || ''
    facilitators.value = (details.facilitators || []).map((f) => f.about ? `${f.name}: ${f.about}` : f.name).join('\n')
    participants.value = details.participants ?? ''
    about.value = details.participants_about || ''
    next.value = (details.next_steps || []).join('\n')
  }

  function read () {
    const details = {}
    if (question.value.trim()) details.question = question.value.trim()
    if (date.value) details.date = date.value
    if (where.value.trim()) details.where = where.value.trim()
    const people = parseFacilitators(facilitators.value)
    if (people.length) details.facilitators = people
    if (participants.value !== '') details.participants = Number(participants.value)
    if (about.value.trim()) details.participants_about = about.value.trim()
    const steps = splitLines(next.value)
    if (steps.length) details.next_steps = steps
    return details
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    setText(status, 'Saving…')
    try {
      fill(await save(read()))
      setText(status, 'Saved. The next event export shows them.')
    } catch (error) {
      setText(status, `Not saved: ${error instanceof ApiError ? error.message : 'the server did not answer'}`)
    }
  })
  load().then(fill).catch((error) => setText(status, `The details could not be loaded: ${error.message}`))
  return { el: form }
}
