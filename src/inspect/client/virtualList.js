// @ts-check
/**
 * A list that draws only the rows in view (plus a margin), whatever its length: the scroll area
 * is one tall spacer, and the few row elements are placed in it with a transform (CSSOM, which
 * the page's style policy allows, unlike style attributes). Rows have one fixed height.
 * @template T
 * @typedef {{
 *   setRows: (count: number, rowAt: (index: number) => T | undefined) => void,
 *   refresh: () => void,
 *   visibleRange: () => { first: number, last: number },
 *   scrollToTop: () => void
 * }} VirtualList
 */

/** Rows drawn beyond each edge of the view, so a fast scroll does not show blanks. */
const OVERSCAN = 10

/**
 * @template T
 * @param {HTMLElement} viewport the scrolling element (fixed height, `overflow: auto`)
 * @param {number} rowHeight px
 * @param {(row: T | undefined, index: number) => HTMLElement} draw one row; `undefined` while it is not loaded yet
 * @param {(range: { first: number, last: number }) => void} onRange called after each draw with the rows in view
 * @returns {VirtualList<T>}
 */
export function virtualList(viewport, rowHeight, draw, onRange) {
  const spacer = document.createElement("div")
  spacer.className = "virtual-spacer"
  viewport.replaceChildren(spacer)
  let count = 0
  /** @type {(index: number) => T | undefined} */
  let rowAt = () => undefined
  let scheduled = false

  const visibleRange = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / rowHeight))
    const last = Math.min(count, Math.ceil((viewport.scrollTop + viewport.clientHeight) / rowHeight))
    return { first, last }
  }

  const render = () => {
    scheduled = false
    spacer.style.height = `${count * rowHeight}px`
    const { first, last } = visibleRange()
    const from = Math.max(0, first - OVERSCAN)
    const to = Math.min(count, last + OVERSCAN)
    const rows = []
    for (let index = from; index < to; index++) {
      const element = draw(rowAt(index), index)
      element.style.transform = `translateY(${index * rowHeight}px)`
      element.style.height = `${rowHeight}px`
      rows.push(element)
    }
    spacer.replaceChildren(...rows)
    onRange({ first, last })
  }
  const schedule = () => {
    if (scheduled) return
    scheduled = true
    requestAnimationFrame(render)
  }
  viewport.addEventListener("scroll", schedule, { passive: true })
  new ResizeObserver(schedule).observe(viewport)

  return {
    setRows(nextCount, nextRowAt) {
      count = nextCount
      rowAt = nextRowAt
      render()
    },
    refresh: schedule,
    visibleRange,
    scrollToTop() {
      viewport.scrollTop = 0
    }
  }
}
