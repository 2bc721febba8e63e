// @ts-check
import { renderStatechart } from "./renderStatechart.js"
import { statechartGraph } from "./statechartGraph.js"
import { h } from "./h.js"
import { activeStates, possibleTransitions } from "./machineIndex.js"

/**
 * @typedef {import("./machineIndex.js").MachineIndex} MachineIndex
 * @typedef {{ layout: (graph: import("elkjs/lib/elk-api.js").ElkNode) => Promise<import("elkjs/lib/elk-api").ElkNode> }} Elk
 */

/** ELK's own browser build, loaded by a classic <script> before the first draw (it sets `window.ELK`). */
const elk = () => new (/** @type {{ ELK: new () => Elk }} */ (/** @type {unknown} */ (globalThis)).ELK)()

/** Text widths as the browser will draw them. @returns {import("./statechartGraph.js").Measure} */
function canvasMeasure() {
  const context = /** @type {CanvasRenderingContext2D} */ (document.createElement("canvas").getContext("2d"))
  return (text, font) => {
    context.font = font
    return Math.ceil(context.measureText(text).width)
  }
}

/**
 * Lays the machine out with ELK and draws it into `container`, with zoom buttons in `tools`
 * (fit, smaller, larger). It starts fitted to the pane, but never below half size: beyond that
 * the pane scrolls and follows the highlighted state.
 * Returns `highlight(activePaths)`, which also scrolls the innermost active state into view.
 * @param {MachineIndex} index @param {HTMLElement} container @param {HTMLElement} tools
 */
export async function drawStatechart(index, container, tools) {
  const { graph, nodes, edges } = statechartGraph(index, canvasMeasure())
  const layout = await elk().layout(graph)
  const chart = renderStatechart(layout, nodes, edges)
  const width = layout.width ?? 0
  const height = layout.height ?? 0
  let scale = 1
  const zoom = (/** @type {number} */ next) => {
    scale = Math.min(2, Math.max(0.2, next))
    chart.svg.setAttribute("width", String(Math.round(width * scale)))
    chart.svg.setAttribute("height", String(Math.round(height * scale)))
  }
  const fit = () => Math.min(1, (container.clientWidth - 12) / width, (container.clientHeight - 12) / height)
  const button = (/** @type {string} */ label, /** @type {string} */ title, /** @type {() => void} */ onClick) => {
    const element = h("button", { type: "button", title }, label)
    element.addEventListener("click", onClick)
    return element
  }
  tools.replaceChildren(
    button("fit", "fit the whole chart in the pane", () => zoom(fit())),
    button("−", "smaller", () => zoom(scale / 1.25)),
    button("+", "larger", () => zoom(scale * 1.25))
  )
  container.replaceChildren(chart.svg)
  zoom(Math.max(0.5, fit()))
  return {
    /** Highlights `statePath` (full path, e.g. `provisioning.awaiting`; `""` for none) and what can leave it. @param {string} statePath */
    highlight(statePath) {
      const activePaths = activeStates(index, statePath)
      chart.highlight(activePaths, possibleTransitions(index, statePath))
      const path = activePaths[0]
      const active = path === undefined ? null : chart.svg.querySelector(`g.state[data-state="${CSS.escape(path)}"]`)
      active?.scrollIntoView({ block: "nearest", inline: "nearest" })
    }
  }
}
