// Downloading exports (facilitators): the file is fetched with the token in the Authorization
// header and saved from a Blob, so the token never appears in a URL that could land in logs.
import { h, announce, setText } from '../dom.js'
import { fetchFile } from '../api.js'

export const FORMATS = [
  { id: 'md', label: 'Markdown', ext: '.md', help: 'a write-up' },
  { id: 'html', label: 'Slides', ext: '.html', help: 'a slide deck in one file' },
  { id: 'pptx', label: 'PowerPoint', ext: '.pptx', help: 'slides with provenance in the speaker notes' },
  { id: 'json', label: 'JSON', ext: '.json', help: 'for other tools' }
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
 * legend: what is exported; audiences: [{id, label}]; path(format, audience) -> URL path;
 * token: the facilitator token; before: controls placed first (e.g. a room picker).
 */
export function exportGroup ({ legend, help = null, audiences, path, token, before = null }) {
  const id = `export-${++groups}`
  const legendEl = h('legend', { text: legend })
  const audience = h('select', { id: `${id}-audience`, name: 'audience' },
    audiences.map((a) => h('option', { value: a.id }, a.label)))
  const status = h('p', { class: 'hint export-status', role: 'status' })
  let busy = false
  const buttons = FORMATS.map((format) => h('button', {
    type: 'button',
    class: 'export-format',
    'data-format': format.id,
    title: `Download ${format.help}`,
    onclick: (event) => run(format, event.currentTarget)
  }, `${format.label} (${format.ext})`))

  async function run (format, button) {
    if (busy) return
    busy = true
    button.setAttribute('aria-busy', 'true')
    setText(status, `Preparing ${format.label}…`)
    try {
      const file = await fetchFile(path(format.id, audience.value), token)
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

  const el = h('fieldset', { class: 'export-group', id },
    legendEl,
    help ? h('p', { class: 'hint', text: help }) : null,
    before,
    h('div', { class: 'row' }, h('label', { for: audience.id, text: 'Audience' }), audience),
    h('div', { class: 'row export-buttons' }, buttons),
    status)
  return { el, setLegend: (text) => setText(legendEl, text) }
}
