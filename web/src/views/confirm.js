// "Are you sure?" for what changes things for many people at once (reveal, every room, purge):
// a modal dialog that says what will happen, with Cancel focused first.
import { h } from '../dom.js'

let dialogs = 0

/**
 * Resolves true when the person confirms, false when they cancel (Escape, Cancel).
 * { title, lines: [text…], confirm: 'Reveal now', danger }
 */
export function confirmAction ({ title, lines, confirm, danger = false }) {
  const id = `confirm-${++dialogs}`
  const opener = document.activeElement
  return new Promise((resolve) => {
    let answer = false
    const yes = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirm)
    const no = h('button', { type: 'button' }, 'Cancel')
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': `${id}-h`, 'aria-describedby': `${id}-what` },
      h('h2', { id: `${id}-h`, text: title }),
      h('div', { id: `${id}-what` }, lines.map((line) => h('p', { text: line }))),
      h('div', { class: 'row end' }, no, yes))
    yes.addEventListener('click', () => { answer = true; dialog.close() })
    no.addEventListener('click', () => dialog.close())
    dialog.addEventListener('close', () => {
      dialog.remove()
      if (opener?.isConnected) opener.focus()
      resolve(answer)
    })
    document.body.append(dialog)
    dialog.showModal()
    no.focus()
  })
}

