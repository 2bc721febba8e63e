// @ts-check
import { LABEL_LINE, LINE_HEIGHT } from "./statechartGraph.js"

/**
 * @typedef {import("elkjs/lib/elk-api.js").ElkNode} ElkNode
 * @typedef {import("elkjs/lib/elk-api.js").ElkExtendedEdge} ElkExtendedEdge
 * @typedef {import("./statechartGraph.js").NodeMeta} NodeMeta
 * @typedef {import("./statechartGraph.js").EdgeMeta} EdgeMeta
 * @typedef {import("./machineIndex.js").Transition} Transition
 * @typedef {{ svg: SVGSVGElement, highlight: (activePaths: ReadonlyArray<string>, possible: ReadonlySet<Transition>) => void }} Statechart
 */

const SVG = "http://www.w3.org/2000/svg"


/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 * @param {ReadonlyArray<Element>} children
 */
const el = (tag, attributes = {}, children = []) => {
  const element = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  element.append(...children)
  return element
}

/** @param {string} text @param {Record<string, string | number>} attributes */
const text = (text, attributes) => {
  const element = el("text", attributes)
  element.textContent = text
  return element
}

/**
 * Absolute top-left of every laid-out node: ELK gives positions relative to the parent.
 * @param {ElkNode} node @param {number} x @param {number} y @param {Map<string, {x: number, y: number}>} into
 */
function placeAll(node, x, y, into) {
  into.set(node.id, { x, y })
  for (const child of node.children ?? []) placeAll(child, x + (child.x ?? 0), y + (child.y ?? 0), into)
  return into
}

/** @param {ElkNode} node @param {NodeMeta} meta */
function stateBox(node, meta) {
  const width = node.width ?? 0
  const height = node.height ?? 0
  if (meta.kind === "initial") {
    return el("g", { class: "initial" }, [el("circle", { cx: width / 2, cy: height / 2, r: width / 2 })])
  }
  const children = [el("rect", { class: "box", width, height, rx: 8 })]
  if (meta.kind === "final") children.push(el("rect", { class: "inner", x: 3, y: 3, width: width - 6, height: height - 6, rx: 6 }))
  meta.lines.forEach((line, i) => children.push(text(line.text, { class: `line line--${line.kind}`, x: 10, y: 10 + (i + 1) * LINE_HEIGHT - 4 })))
  if (meta.kind === "compound" || meta.kind === "machine") {
    children.push(el("line", { class: "divider", x1: 0, x2: width, y1: meta.header, y2: meta.header }))
  }
  return el("g", { class: `state state--${meta.kind}`, "data-state": meta.path }, children)
}

/** @param {ElkExtendedEdge} edge @param {EdgeMeta} meta @param {{x: number, y: number}} origin */
function transitionPath(edge, meta, origin) {
  const points = (edge.sections ?? []).flatMap((section) => [section.startPoint, ...(section.bendPoints ?? []), section.endPoint])
  const d = points.map((point, i) => `${i === 0 ? "M" : "L"}${point.x + origin.x},${point.y + origin.y}`).join(" ")
  const children = [el("path", { d, "marker-end": "url(#arrow)" })]
  for (const label of edge.labels ?? []) {
    const lines = (label.text ?? "").split("\n")
    const x = (label.x ?? 0) + origin.x
    const y = (label.y ?? 0) + origin.y
    children.push(el("rect", { class: "label-bg", x, y, width: label.width ?? 0, height: label.height ?? 0, rx: 3 }))
    lines.forEach((line, i) => children.push(text(line, { class: `label${i > 0 ? " label--guard" : ""}`, x: x + 3, y: y + (i + 1) * LABEL_LINE - 3 })))
  }
  const transition = meta.transition
  const attributes = transition === null
    ? { class: "transition transition--initial", "data-target": meta.target }
    : { class: "transition", "data-source": transition.source, "data-target": meta.target, "data-event": transition.event }
  return el("g", attributes, children)
}

/**
 * Draws a laid-out statechart as SVG: nested state boxes (`g.state[data-state]`), transitions
 * (`g.transition[data-source][data-event]`) with their labels. `highlight` marks the active
 * states (`.active` on the innermost, `.active-ancestor` on its parents; the machine itself,
 * always active, is left plain) and the transitions that can fire there (`.possible`).
 * @param {ElkNode} layout ELK's answer for `statechartGraph(...).graph`
 * @param {Map<string, NodeMeta>} nodes
 * @param {Map<string, EdgeMeta>} edges
 * @returns {Statechart}
 */
export function renderStatechart(layout, nodes, edges) {
  const positions = placeAll(layout, 0, 0, new Map())
  const width = Math.ceil(layout.width ?? 0)
  const height = Math.ceil(layout.height ?? 0)
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, [
    el("path", { d: "M0,0 L10,5 L0,10 z" })
  ])
  const svg = /** @type {SVGSVGElement} */ (el("svg", { class: "statechart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img" }))
  svg.append(el("defs", {}, [marker]))

  /** @type {Array<Element>} */
  const states = []
  /** @param {ElkNode} node */
  const drawNodes = (node) => {
    const meta = nodes.get(node.id)
    const at = positions.get(node.id)
    if (meta !== undefined && at !== undefined) {
      const box = stateBox(node, meta)
      box.setAttribute("transform", `translate(${at.x},${at.y})`)
      states.push(box)
    }
    for (const child of node.children ?? []) drawNodes(child)
  }
  drawNodes(layout)
  svg.append(el("g", { class: "states" }, states))
  /** @type {Map<Element, Transition>} */
  const drawn = new Map()
  const transitions = (layout.edges ?? []).flatMap((edge) => {
    const meta = edges.get(edge.id)
    if (meta === undefined) return []
    // Edge coordinates are relative to the node ELK names as the edge's container.
    const origin = positions.get(/** @type {{ container?: string }} */ (edge).container ?? layout.id) ?? { x: 0, y: 0 }
    const group = transitionPath(edge, meta, origin)
    if (meta.transition !== null) drawn.set(group, meta.transition)
    return [group]
  })
  svg.append(el("g", { class: "transitions" }, transitions))

  return {
    svg,
    highlight(activePaths, possible) {
      const active = new Set(activePaths)
      for (const group of svg.querySelectorAll("g.state")) {
        const path = group.getAttribute("data-state") ?? ""
        group.classList.toggle("active", path === activePaths[0])
        group.classList.toggle("active-ancestor", path !== "" && path !== activePaths[0] && active.has(path))
      }
      for (const [group, transition] of drawn) group.classList.toggle("possible", possible.has(transition))
    }
  }
}
