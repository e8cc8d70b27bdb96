// Pointer clicks and keys on the board: one listener each for every note and button (delegation).

export function attachInput (layer) {
  layer.root.addEventListener('click', (event) => onClick(layer, event))
  layer.root.addEventListener('keydown', (event) => onKeyDown(layer, event))
  layer.root.addEventListener('change', (event) => onChange(layer, event))
}

function noteOf (layer, el) {
  const noteEl = el.closest?.('.note')
  return noteEl ? layer.notes.get(noteEl.dataset.id) : null
}

function onClick (layer, event) {
  const button = event.target.closest('button[data-act]')
  if (!button || !layer.root.contains(button)) return
  const act = button.dataset.act
  if (act === 'add' || act === 'cluster-new') {
    layer.ctx.act(act, button.closest('.section').dataset.section)
  } else if (act === 'cluster-delete') {
    layer.ctx.act(act, button.dataset.cluster)
  } else {
    const view = noteOf(layer, button)
    if (view) layer.ctx.act(act, view.id)
  }
}

function onChange (layer, event) {
  const input = event.target
  if (input.classList.contains('cluster-label')) layer.ctx.act('cluster-rename', input.dataset.cluster, input.value.trim())
}

function onKeyDown (layer, event) {
  if (event.target.classList?.contains('cluster-label') && event.key === 'Enter') {
    event.target.blur()
    return
  }
  if (event.altKey || event.ctrlKey || event.metaKey || layer.ctx.readOnly) return
  const step = event.shiftKey ? 64 : 16
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }
  const grip = event.target.classList?.contains('grip') && layer.clusters.get(event.target.dataset.cluster)
  if (grip && moves[event.key] && layer.ctx.canvasMode()) {
    event.preventDefault()
    const [dx, dy] = moves[event.key]
    layer.ctx.act('cluster-move', grip.id, Math.max(0, (grip.data.x || 0) + dx), Math.max(0, (grip.data.y || 0) + dy))
    return
  }
  const view = event.target.classList?.contains('note') ? layer.notes.get(event.target.dataset.id) : null
  if (!view) return
  if (moves[event.key] && layer.ctx.canvasMode() && layer.ctx.canMove(view) && !view.data.cluster) {
    event.preventDefault()
    const [dx, dy] = moves[event.key]
    layer.ctx.act('move', view.id, (view.data.x || 0) + dx, (view.data.y || 0) + dy)
  } else if ((event.key === 'Enter' || event.key === 'e') && view.mine) {
    event.preventDefault()
    layer.ctx.act('edit', view.id)
  } else if (event.key === 'Enter' && layer.ctx.role === 'facilitator') {
    event.preventDefault()
    layer.ctx.act('more', view.id)
  } else if ((event.key === 'Delete' || event.key === 'Backspace') && view.mine) {
    event.preventDefault()
    layer.ctx.act('delete', view.id)
  } else if ((event.key === '+' || event.key === '=') && view.source === 'board') {
    layer.ctx.act('vote', view.id)
  } else if (event.key === '-' && view.source === 'board') {
    layer.ctx.act('unvote', view.id)
  }
}
