// The facilitator's console on the dashboard: a card per room (people, phase, time left, notes and
// private drafts per section, withdrawn notes to purge) and the top ideas of every room to send on.
import { h, setText, plural, relativeTime, replace, clock, announce, toast } from '../dom.js'
import { api } from '../api.js'
import { PHASE_LABELS } from '../board-model.js'
import { confirmAction } from './confirm.js'

const PURGE_MEANS = 'Purging erases the text of withdrawn notes from the server’s storage and history for good; only the fact that a note existed remains.'

/** ctx: {eventId, token, boardLink(roomId), sectionTitle(id), projectorLink(roomId)|null, refresh()} */
export function roomCard (room, ctx) {
  const parts = {
    label: h('h3', {}, h('a', { href: ctx.boardLink(room.id) })),
    kind: h('p', { class: 'hint' }),
    phase: h('p', { class: 'figure phase-figure' }),
    present: h('p', { class: 'figure' }),
    notes: h('p', { class: 'figure' }),
    drafts: h('p', { class: 'figure drafts-figure' }),
    sections: h('ul', { class: 'per-section' }),
    activity: h('p', { class: 'hint' }),
    withdrawn: h('div', { class: 'withdrawn-block', hidden: true })
  }
  const purgeButton = h('button', { type: 'button', class: 'danger', 'aria-describedby': `purge-${room.id}` }, 'Purge withdrawn notes')
  const purgeCount = h('p', { class: 'hint' })
  replace(parts.withdrawn, purgeCount, h('p', { class: 'hint', id: `purge-${room.id}`, text: PURGE_MEANS }), purgeButton)
  purgeButton.addEventListener('click', async () => {
    const ok = await confirmAction({
      title: `Purge the withdrawn notes of ${room.label}?`,
      lines: [PURGE_MEANS, 'It cannot be undone. Their authors withdrew them; nobody sees them now.'],
      confirm: 'Purge for good',
      danger: true
    })
    if (!ok) return
    try {
      const result = await api.purge(room.id, ctx.token)
      announce(`${plural(result.purged.length, 'withdrawn note')} purged in ${room.label}.`)
      toast(`${plural(result.purged.length, 'withdrawn note')} purged in ${room.label}.`)
      ctx.refresh()
    } catch (error) {
      toast(`Not purged: ${error.message}`, { urgent: true })
    }
  })
  const projector = ctx.projectorLink(room.id)
  const el = h('li', { class: 'room-card', 'data-room': room.id }, parts.label, parts.kind, parts.phase,
    h('div', { class: 'figures' }, parts.present, parts.notes, parts.drafts), parts.sections, parts.activity, parts.withdrawn,
    h('p', { class: 'row' },
      h('a', { class: 'button primary', href: ctx.boardLink(room.id), 'aria-label': `Open room: ${room.label}` }, 'Open room'),
      projector ? h('a', { class: 'button', href: projector, target: '_blank', rel: 'noopener', 'aria-label': `Projector for ${room.label}` }, 'Projector') : null))

  function update (next) {
    room = next
    setText(parts.label.firstChild, room.label)
    setText(parts.kind, room.kind === 'plenary' ? 'Plenary — everyone' : 'Breakout room')
    const left = room.timer_ends_at_ms ? (room.timer_ends_at_ms - Date.now()) / 1000 : null
    const time = left === null ? '' : left > 0 ? ` · ${clock(left)} left` : ' · time is up'
    setText(parts.phase, `Phase: ${PHASE_LABELS[room.phase] || room.phase || 'Collect'}${room.locked ? ' · Locked' : ''}${time}`)
    setText(parts.present, `${plural(room.present || 0, 'person', 'people')} here`)
    setText(parts.notes, plural(room.notes || 0, 'note'))
    parts.drafts.hidden = !room.drafts
    setText(parts.drafts, `${plural(room.drafts || 0, 'private draft')} in progress, by ${plural(room.drafting || 0, 'person', 'people')}`)
    const titles = new Set([...Object.keys(room.notes_per_section || {}), ...Object.keys(room.drafts_per_section || {})])
    const per = [...titles].map((id) => [id, room.notes_per_section?.[id] || 0, room.drafts_per_section?.[id] || 0])
    const signature = JSON.stringify(per)
    if (parts.sections.dataset.sig !== signature) {
      parts.sections.dataset.sig = signature
      replace(parts.sections, ...per.map(([id, n, d]) => h('li', {},
        `${ctx.sectionTitle(id)}: ${n}`, d ? ` (+${plural(d, 'private draft')})` : '')))
    }
    setText(parts.activity, `Last activity: ${relativeTime(room.last_activity_ms)}`)
    parts.withdrawn.hidden = !room.withdrawn
    setText(purgeCount, `${plural(room.withdrawn || 0, 'note')} withdrawn by ${room.withdrawn === 1 ? 'its author' : 'their authors'}.`)
    el.classList.toggle('active', (room.present || 0) > 0)
  }
  return { el, update }
}

/** The top-voted shared ideas of every breakout room, to check and send to the plenary in one action. */
export function ideasPanel ({ eventId, token, sectionTitle }) {
  const list = h('div', { class: 'ideas-list' })
  const status = h('p', { class: 'hint', role: 'status' })
  const load = h('button', { type: 'button' }, 'Show the top ideas of every room')
  const send = h('button', { type: 'button', class: 'primary', hidden: true }, 'Send the checked ideas to the plenary')
  const el = h('section', { class: 'card ideas', 'aria-labelledby': 'ideas-h' },
    h('h2', { id: 'ideas-h', text: 'Top ideas to the plenary' }),
    h('p', { class: 'hint', text: 'The most-voted notes that their authors shared with the whole event (never those kept in their room). Each copy on the plenary shows its room and keeps its votes; sending one again adds nothing.' }),
    h('p', { class: 'row' }, load, send), status, list)

  async function show () {
    setText(status, 'Loading the ideas…')
    try {
      const { rooms } = await api.ideas(eventId, token, 5)
      let count = 0
      replace(list, ...rooms.map((room) => h('fieldset', { class: 'idea-room' }, h('legend', { text: room.label }),
        room.ideas.length
          ? room.ideas.map((idea, index) => {
            const id = `idea-${room.id}-${idea.note}`.replace(/[^A-Za-z0-9_-]/g, '_')
            const checked = index < 3 && idea.votes > 0
            count += checked
            return h('label', { class: 'check idea', for: id },
              h('input', { type: 'checkbox', id, checked, dataset: { room: room.id, note: idea.note } }),
              h('span', {}, h('strong', { text: `${plural(idea.votes, 'vote')} · ` }), idea.text,
                h('span', { class: 'hint', text: ` — ${sectionTitle(idea.section)}${idea.author_name ? `, by ${idea.author_name}` : ''}` })))
          })
          : h('p', { class: 'hint', text: 'No notes shared with the event yet.' }))))
      send.hidden = false
      setText(status, `${plural(count, 'idea')} checked: the top three with votes in each room.`)
    } catch (error) {
      setText(status, `Could not load the ideas: ${error.message}`)
    }
  }
  load.addEventListener('click', show)
  send.addEventListener('click', async () => {
    const notes = [...list.querySelectorAll('input:checked')].map((input) => ({ room: input.dataset.room, note: input.dataset.note }))
    if (!notes.length) return setText(status, 'Check at least one idea to send.')
    send.disabled = true
    try {
      const result = await api.plenary(eventId, token, notes)
      const said = `${plural(result.copied.length, 'idea')} sent to the plenary with their votes${result.skipped ? `; ${result.skipped} not sent (on the plenary already, or kept in their room or withdrawn meanwhile)` : ''}.`
      setText(status, said)
      announce(said)
    } catch (error) {
      setText(status, `Not sent: ${error.message}`)
    } finally {
      send.disabled = false
    }
  })
  return { el }
}
