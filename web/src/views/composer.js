// The note form, for adding and editing: text, colour, sign or stay anonymous, share scope.
// Enter saves, Shift+Enter starts a new line, Escape cancels.
import { h } from '../dom.js'
import { COLOURS, SCOPES } from '../board-model.js'
import { memory } from '../api.js'

export class Composer {
  /** who: { name } (null when the person joined without a name); onSave(fields, target); maxChars() */
  constructor ({ name, maxChars, onSave }) {
    this.name = name
    this.maxChars = maxChars
    this.onSave = onSave
    this.target = null
    const prefs = memory.preferences()
    this.text = h('textarea', { id: 'composer-text', rows: '3', required: true, 'aria-describedby': 'composer-help composer-count' })
    this.count = h('span', { id: 'composer-count', class: 'hint', 'aria-live': 'off' })
    this.help = h('p', { id: 'composer-help', class: 'hint' })
    this.title = h('p', { class: 'composer-title', id: 'composer-title' })
    this.colours = h('fieldset', { class: 'colours' }, h('legend', { text: 'Colour' }),
      COLOURS.map((colour) => h('label', { class: `swatch c-${colour}` },
        h('input', { type: 'radio', name: 'colour', value: colour, checked: colour === (prefs.colour || 'yellow') }),
        h('span', { text: colour[0].toUpperCase() + colour.slice(1) }))))
    this.sign = h('input', { type: 'checkbox', id: 'composer-sign', disabled: !name })
    this.scope = h('fieldset', { class: 'scopes' }, h('legend', { text: 'Who may see it' }),
      SCOPES.map((s) => h('label', { class: 'check scope' },
        h('input', { type: 'radio', name: 'scope', value: s.id, checked: s.id === 'room' }),
        h('span', {}, h('span', { class: 'scope-name', text: s.label }), h('span', { class: 'hint', text: ` — ${s.help}` })))))
    this.error = h('p', { class: 'error', role: 'alert', hidden: true })
    this.save = h('button', { type: 'submit', class: 'primary' }, 'Save note')
    this.form = h('form', { class: 'composer', 'aria-labelledby': 'composer-title', novalidate: true },
      this.title,
      h('label', { for: 'composer-text', text: 'Note text' }),
      this.text,
      h('div', { class: 'composer-row' }, this.help, this.count),
      this.colours,
      h('label', { class: 'check', for: 'composer-sign' }, this.sign,
        name ? ` Sign with my name (${name})` : ' Sign with my name — you joined without a name, so your notes are anonymous'),
      this.scope,
      this.error,
      h('div', { class: 'composer-row' }, this.save,
        h('button', { type: 'button', onclick: () => this.close() }, 'Cancel')))
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.submit() })
    this.text.addEventListener('input', () => this.updateCount())
    this.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        this.submit()
      }
    })
    this.form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault()
        this.close()
      }
    })
  }

  get isOpen () {
    return this.target !== null
  }

  /** target: { section, sectionTitle, slot, note?: {id, ...fields}, isPrivate, returnFocus } */
  open (target) {
    this.target = target
    const note = target.note
    this.title.textContent = note ? `Edit note in “${target.sectionTitle}”` : `New note in “${target.sectionTitle}”`
    this.text.value = note ? note.text : ''
    const colour = note?.colour || memory.preferences().colour || 'yellow'
    for (const input of this.form.elements.colour) input.checked = input.value === colour
    // Every new note starts anonymous and in this room: signing and sharing are chosen each time.
    this.sign.checked = Boolean(note?.author_name)
    this.setScope(note?.scope || 'room')
    this.help.textContent = target.isPrivate
      ? 'Private: only you can see this note until the facilitator reveals the notes. Enter saves, Shift+Enter adds a line.'
      : 'Anonymous unless you sign it. Enter saves, Shift+Enter adds a line, Escape cancels.'
    this.save.textContent = note ? 'Save changes' : 'Add note'
    this.error.hidden = true
    this.updateCount()
    target.slot.append(this.form)
    this.text.focus()
  }

  setScope (scope) {
    for (const input of this.form.elements.scope) input.checked = input.value === scope
  }

  close ({ restoreFocus = true } = {}) {
    const target = this.target
    this.target = null
    this.form.remove()
    if (restoreFocus && target?.returnFocus?.isConnected) target.returnFocus.focus()
  }

  updateCount () {
    const max = this.maxChars()
    this.count.textContent = `${this.text.value.length} / ${max}`
    this.count.classList.toggle('over', this.text.value.length > max)
  }

  fail (message) {
    this.error.textContent = message
    this.error.hidden = false
  }

  submit () {
    const text = this.text.value.trim()
    const max = this.maxChars()
    if (!text) return this.fail('Write something first.')
    if (text.length > max) return this.fail(`A note can be at most ${max} characters; this one has ${text.length}.`)
    const colour = [...this.form.elements.colour].find((input) => input.checked)?.value || 'yellow'
    const fields = {
      text,
      colour,
      author_name: this.sign.checked && this.name ? this.name : null,
      scope: [...this.form.elements.scope].find((input) => input.checked)?.value || 'room'
    }
    memory.rememberPreferences({ colour })
    const target = this.target
    const error = this.onSave(fields, target)
    if (error) return this.fail(error)
    if (target.note) {
      this.close()
    } else {
      // Stay open for the next note: workshops write several in a row.
      this.text.value = ''
      this.sign.checked = false
      this.setScope('room')
      this.updateCount()
      this.text.focus()
    }
  }
}
