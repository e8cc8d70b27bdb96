// "Follow me" for facilitators: what the room's projector shows (the whole board, one section,
// one cluster or the results) and which page of it, told through presence (never logged).
import { h, replace, setText } from '../dom.js'

/** page: the board page (board channel, layer); returns {el, refresh()} */
export function followControl (page) {
  const select = h('select', { id: 'follow-view', 'aria-describedby': 'follow-help' })
  const prev = h('button', { type: 'button', 'aria-label': 'Previous page on the projector' }, '◀')
  const next = h('button', { type: 'button', 'aria-label': 'Next page on the projector' }, '▶')
  const where = h('span', { class: 'follow-page', id: 'follow-help', 'aria-live': 'polite' })
  let wish = { view: 'board', id: null, page: 0 }
  let signature = ''

  function send () {
    page.board.setPresenceField('projector', { ...wish, at: Date.now() })
    refresh()
  }
  select.addEventListener('change', () => {
    const [view, id] = select.value.split(':')
    wish = { view, id: id || null, page: 0 }
    send()
  })
  prev.addEventListener('click', () => { wish = { ...wish, page: Math.max(0, wish.page - 1) }; send() })
  next.addEventListener('click', () => { wish = { ...wish, page: wish.page + 1 }; send() })

  /** The projector's own report of its pages (its presence), if one is watching this board. */
  function screen () {
    for (const state of page.board.awareness.getStates().values()) {
      if (state?.user?.role === 'viewer' && state.screen) return state.screen
    }
    return null
  }

  function refresh () {
    const options = [['board', 'The whole board']]
    for (const [id, section] of page.layer.sections) options.push([`section:${id}`, `Section: ${section.data.title}`])
    for (const [id, cluster] of page.layer.clusters) options.push([`cluster:${id}`, `Cluster: ${cluster.data.label || 'Untitled cluster'}`])
    options.push(['results', 'The results'])
    const sig = JSON.stringify(options)
    if (sig !== signature) {
      signature = sig
      const chosen = wish.view === 'board' || wish.view === 'results' ? wish.view : `${wish.view}:${wish.id}`
      replace(select, ...options.map(([value, label]) => h('option', { value, selected: value === chosen }, label)))
    }
    const shown = screen()
    const pages = shown?.pages || 1
    if (wish.page > pages - 1 && shown) wish = { ...wish, page: pages - 1 }
    prev.disabled = wish.page <= 0
    next.disabled = !shown || wish.page >= pages - 1
    setText(where, shown ? `Page ${Math.min(wish.page, pages - 1) + 1} of ${pages}` : 'No projector is showing this board')
  }

  const el = h('div', { class: 'tool-group follow' },
    h('label', { for: 'follow-view', text: 'On the projector' }), select, prev, next, where)
  return { el, refresh }
}
