// The projector: large type that shrinks just enough for the whole board to fit the screen.
import { h, replace } from '../dom.js'

const MIN_PX = 9
const MAX_PX = 40

export function fitToScreen (app) {
  let timer = 0
  const fit = () => {
    timer = 0
    let lo = MIN_PX
    let hi = MAX_PX
    const fits = () => document.documentElement.scrollHeight <= innerHeight + 1 && document.documentElement.scrollWidth <= innerWidth + 1
    while (hi - lo > 0.5) {
      const mid = (lo + hi) / 2
      app.style.fontSize = `${mid}px`
      if (fits()) lo = mid
      else hi = mid
    }
    app.style.fontSize = `${lo}px`
  }
  const schedule = () => {
    if (!timer) timer = setTimeout(fit, 80)
  }
  // The countdown ticks every second and never changes the layout: ignore it.
  const relevant = (m) => !(m.target.nodeType === 1 ? m.target : m.target.parentElement)?.closest('.timer-wrap')
  new MutationObserver((list) => { if (list.some(relevant)) schedule() })
    .observe(app, { childList: true, subtree: true, characterData: true })
  addEventListener('resize', schedule)
  schedule()
}

export function roomSwitcher ({ current, token }) {
  const select = h('select', { id: 'projector-room' }, h('option', { value: current }, 'This board'))
  select.addEventListener('change', () => {
    location.href = `/board/${encodeURIComponent(select.value)}?token=${encodeURIComponent(token)}`
  })
  const el = h('nav', { class: 'view-tools', 'aria-label': 'Projector' },
    h('label', { for: 'projector-room' }, 'Showing '), select)
  return {
    el,
    setRooms (rooms) {
      replace(select, ...rooms.map((r) => h('option', { value: r.id, selected: r.id === current }, r.label)))
    }
  }
}
