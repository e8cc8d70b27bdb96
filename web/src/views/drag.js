// Dragging notes and clusters with a pointer (mouse, pen, touch): the element follows the
// pointer locally and the board is written once, on drop. With free placement anything may be
// moved; in the flowing layout a facilitator drags notes into and out of clusters only.
// Keyboard users move notes with arrows, and cluster them with a note's More… dialog.

const THRESHOLD_PX = 4

export function attachDragging (layer) {
  let drag = null

  layer.root.addEventListener('pointerdown', (event) => {
    const free = layer.ctx.canvasMode()
    if (event.button !== 0 || drag || !(free || layer.ctx.role === 'facilitator')) return
    if (event.target.closest('button:not(.grip), input, select, textarea, a, label')) return
    const noteEl = event.target.closest('.note')
    const head = event.target.closest('.cluster-head')
    let target = null
    if (noteEl) {
      const view = layer.notes.get(noteEl.dataset.id)
      if (!view || !layer.ctx.canMove(view)) return
      target = { kind: 'note', id: view.id, view, el: noteEl, section: view.data.section }
    } else if (head && layer.ctx.role === 'facilitator' && free) {
      const el = head.closest('.cluster')
      const view = layer.clusters.get(el.dataset.cluster)
      if (!view) return
      target = { kind: 'cluster', id: view.id, el, section: view.data.section }
    } else {
      return
    }
    const rect = target.el.getBoundingClientRect()
    drag = {
      ...target,
      pointerId: event.pointerId,
      startX: event.clientX,
      startY: event.clientY,
      offsetX: event.clientX - rect.left,
      offsetY: event.clientY - rect.top,
      moved: false,
      drop: null
    }
    target.el.setPointerCapture(event.pointerId)
  })

  layer.root.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return
    const dx = event.clientX - drag.startX
    const dy = event.clientY - drag.startY
    if (!drag.moved && Math.hypot(dx, dy) < THRESHOLD_PX) return
    if (!drag.moved) {
      drag.moved = true
      drag.el.classList.add('dragging')
    }
    event.preventDefault()
    drag.el.style.transform = `translate(${dx}px, ${dy}px)`
    if (drag.kind === 'note' && layer.ctx.role === 'facilitator') {
      const cluster = clusterAt(event.clientX, event.clientY, drag)
      if (cluster !== drag.drop) {
        drag.drop?.classList.remove('drop-target')
        cluster?.classList.add('drop-target')
        drag.drop = cluster
      }
    }
  })

  const finish = (event, cancelled) => {
    if (!drag || event.pointerId !== drag.pointerId) return
    const current = drag
    drag = null
    current.el.classList.remove('dragging')
    current.el.style.transform = ''
    current.drop?.classList.remove('drop-target')
    if (current.el.hasPointerCapture?.(event.pointerId)) current.el.releasePointerCapture(event.pointerId)
    if (cancelled || !current.moved) return
    if (!layer.ctx.canvasMode()) {
      if (current.drop) layer.ctx.act('cluster-set', current.id, current.drop.dataset.cluster)
      else if (current.view.data.cluster && droppedOnSection(event, current.section)) layer.ctx.act('cluster-unset', current.id, 0, 0)
      return
    }
    const canvas = layer.sections.get(current.section)?.canvas
    if (!canvas) return
    const box = canvas.getBoundingClientRect()
    const x = Math.max(0, event.clientX - box.left + canvas.scrollLeft - current.offsetX)
    const y = Math.max(0, event.clientY - box.top + canvas.scrollTop - current.offsetY)
    if (current.kind === 'cluster') {
      layer.ctx.act('cluster-move', current.id, x, y)
    } else if (current.drop) {
      layer.ctx.act('cluster-set', current.id, current.drop.dataset.cluster)
    } else if (current.view.data.cluster && layer.ctx.role === 'facilitator') {
      layer.ctx.act('cluster-unset', current.id, x, y)
    } else {
      layer.ctx.act('move', current.id, x, y)
    }
  }
  layer.root.addEventListener('pointerup', (event) => finish(event, false))
  layer.root.addEventListener('pointercancel', (event) => finish(event, true))
}

function droppedOnSection (event, sectionId) {
  return document.elementsFromPoint(event.clientX, event.clientY)
    .some((el) => el.classList?.contains('canvas') && el.dataset.section === sectionId)
}

function clusterAt (x, y, drag) {
  for (const el of document.elementsFromPoint(x, y)) {
    if (el === drag.el || drag.el.contains(el)) continue
    const cluster = el.closest?.('.cluster')
    if (cluster && cluster.closest('.section')?.dataset.section === drag.section) return cluster
    if (el.classList?.contains('canvas')) return null
  }
  return null
}
