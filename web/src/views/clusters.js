// Clusters: labelled groups of notes in a section, which only a facilitator makes and fills.
import { h, setText, setAttr, place } from '../dom.js'

export function refreshCluster (layer, id) {
  const data = layer.board && layer.board.cluster(id)
  let view = layer.clusters.get(id)
  if (!data || !layer.sections.has(data.section)) {
    if (view) {
      layer.clusters.delete(id)
      const canvas = layer.sections.get(view.data.section)?.canvas
      for (const note of [...view.body.children]) canvas?.append(note)
      view.el.remove()
      layer.touch(view.data.section)
    }
    return
  }
  const created = !view
  if (created) {
    view = createCluster(layer, id)
    layer.clusters.set(id, view)
  }
  view.data = data
  const label = data.label || 'Untitled cluster'
  if (view.input) {
    if (document.activeElement !== view.input && view.input.value !== (data.label || '')) view.input.value = data.label || ''
  } else {
    setText(view.label, label)
  }
  setAttr(view.el, 'aria-label', `Cluster: ${label}`)
  place(view.el, data)
  const canvas = layer.sections.get(data.section).canvas
  if (view.el.parentNode !== canvas) canvas.append(view.el)
  if (created) {
    for (const note of layer.notes.values()) {
      if (note.data.cluster === id && note.data.section === data.section) view.body.append(note.el)
    }
  }
  layer.touch(data.section)
}

function createCluster (layer, id) {
  const facilitator = layer.ctx.role === 'facilitator' && !layer.ctx.readOnly
  const input = facilitator ? h('input', { class: 'cluster-label', 'aria-label': 'Cluster label', maxlength: '200', 'data-cluster': id, placeholder: 'Name this cluster' }) : null
  const label = facilitator ? null : h('p', { class: 'cluster-title' })
  const count = h('span', { class: 'count' })
  const head = h('div', { class: 'cluster-head' },
    facilitator ? h('button', { type: 'button', class: 'grip small', 'data-cluster': id, 'aria-label': 'Move cluster (arrow keys)', title: 'Drag, or use the arrow keys, to move the cluster' }, '⠿') : null,
    input || label, count,
    facilitator ? h('button', { type: 'button', class: 'small', 'data-act': 'cluster-delete', 'data-cluster': id, 'aria-label': 'Remove this cluster (its notes stay on the board)' }, 'Remove') : null)
  const body = h('div', { class: 'cluster-body' })
  const el = h('section', { class: 'cluster', 'data-cluster': id, role: 'group' }, head, body)
  return { id, el, body, label, input, count, data: null }
}
