// @ts-check
/**
 * Turns an indexed machine into an ELK graph (https://eclipse.dev/elk/documentation/tooldevelopers/graphdatastructure/jsonformat.html):
 * states are nodes nested as in the machine, transitions with a target are labelled edges (the
 * machine's own ones leave its border, as in Stately's editor), and what has no edge (invoked
 * actors, targetless transitions) is text inside the state's box. Pure: the caller measures
 * text, so it runs in Node tests too.
 */

/** Layered layout, left to right, one pass over all levels so edges may cross state borders. */
const LAYOUT = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX"
}
/** Spacing, px. ELK reads it per compound node, so every compound carries it. */
const SPACING = {
  "elk.layered.spacing.nodeNodeBetweenLayers": "20",
  "elk.layered.spacing.edgeNodeBetweenLayers": "8",
  "elk.layered.spacing.edgeEdgeBetweenLayers": "5",
  "elk.spacing.nodeNode": "14",
  "elk.spacing.edgeEdge": "6",
  "elk.spacing.edgeNode": "8",
  "elk.spacing.edgeLabel": "3"
}

/**
 * @typedef {import("./machineIndex.js").MachineIndex} MachineIndex
 * @typedef {import("./machineIndex.js").Transition} Transition
 * @typedef {import("elkjs/lib/elk-api.js").ElkNode} ElkNode
 * @typedef {import("elkjs/lib/elk-api.js").ElkExtendedEdge} ElkExtendedEdge
 * @typedef {{ text: string, kind: "title" | "tag" | "invoke" | "note" }} Line
 * @typedef {{ id: string, path: string, kind: "machine" | "compound" | "atomic" | "final" | "initial", lines: Array<Line>, header: number }} NodeMeta
 *   `header` is the height of the text block at the top of the box, px.
 * @typedef {{ id: string, transition: Transition | null, target: string }} EdgeMeta
 *   `transition` is null for the arrow from an initial marker.
 * @typedef {(text: string, font: string) => number} Measure  width of `text` in `font`, px
 */

/** Fonts the renderer draws with; sizes here and in inspect.css must agree. */
export const FONTS = { title: "600 13px sans-serif", line: "12px sans-serif", label: "11px sans-serif" }
export const LINE_HEIGHT = 16
/** Line height of edge labels, px. */
export const LABEL_LINE = 13
const PAD = 10
const INITIAL_SIZE = 12

/** The ELK id of a state node. @param {string} path */
export const stateNodeId = (path) => `state:${path}`

/** `event [guard]`; `separator` puts the guard on its own line in edge labels. @param {Transition} transition */
export const edgeLabel = (transition, separator = " ") => (transition.guard === null ? transition.event : `${transition.event}${separator}[${transition.guard}]`)

/** @param {MachineIndex} index @param {string} path @returns {Array<Line>} */
function linesOf(index, path) {
  const entry = index.states.get(path)
  if (entry === undefined) return []
  const { config } = entry
  const version = path === "" && index.definition.version !== undefined ? ` v${index.definition.version}` : ""
  /** @type {Array<Line>} */
  const lines = [{ text: `${entry.key}${version}`, kind: "title" }]
  if (config.tags !== undefined && config.tags.length > 0) lines.push({ text: config.tags.map((tag) => `#${tag}`).join(" "), kind: "tag" })
  const invokes = Array.isArray(config.invoke) ? config.invoke : config.invoke === undefined ? [] : [config.invoke]
  for (const invoke of invokes) if (typeof invoke.src === "string") lines.push({ text: `invoke ${invoke.src}`, kind: "invoke" })
  const own = index.transitions.filter((transition) => transition.source === path)
  const targetless = own.filter((transition) => transition.targets.length === 0)
  for (const transition of targetless.filter((t) => t.actions.length > 0)) {
    lines.push({ text: `${edgeLabel(transition)} / ${transition.actions.join(", ")}`, kind: "note" })
  }
  const ignored = targetless.filter((transition) => transition.actions.length === 0).map((transition) => transition.event)
  if (ignored.length > 0) lines.push({ text: `ignores ${ignored.join(", ")}`, kind: "note" })
  return lines
}

/** @param {Array<Line>} lines @param {Measure} measure */
const textWidth = (lines, measure) => Math.max(0, ...lines.map((line) => measure(line.text, line.kind === "title" ? FONTS.title : FONTS.line)))

/**
 * The ELK graph of a machine, plus what the renderer needs to draw each node and edge.
 * @param {MachineIndex} index
 * @param {Measure} measure
 * @returns {{ graph: ElkNode, nodes: Map<string, NodeMeta>, edges: Map<string, EdgeMeta> }}
 */
export function statechartGraph(index, measure) {
  /** @type {Map<string, NodeMeta>} */
  const nodes = new Map()
  /** @type {Map<string, EdgeMeta>} */
  const edges = new Map()
  /** @type {Array<ElkExtendedEdge>} */
  const elkEdges = []
  /** @param {string} source @param {string} target @param {string} label */
  const addEdge = (source, target, label) => {
    const id = `edge:${elkEdges.length}`
    const lines = label.split("\n")
    const width = Math.max(...lines.map((line) => measure(line, FONTS.label))) + 6
    const height = lines.length * LABEL_LINE + 4
    elkEdges.push({ id, sources: [source], targets: [target], labels: label === "" ? [] : [{ id: `${id}:label`, text: label, width, height }] })
    return id
  }

  /** @param {string} path @returns {ElkNode} */
  const nodeOf = (path) => {
    const entry = /** @type {import("./machineIndex.js").StateEntry} */ (index.states.get(path))
    const id = stateNodeId(path)
    const lines = linesOf(index, path)
    const header = lines.length * LINE_HEIGHT + PAD
    const width = textWidth(lines, measure) + 2 * PAD
    const kind = path === "" ? "machine" : entry.children.length > 0 ? "compound" : entry.config.type === "final" ? "final" : "atomic"
    nodes.set(id, { id, path, kind, lines, header })
    if (entry.children.length === 0) return { id, width: Math.max(width, 90), height: header + PAD }
    /** @type {Array<ElkNode>} */
    const children = entry.children.map(nodeOf)
    const initial = entry.config.initial
    if (initial !== undefined && entry.children.includes(path === "" ? initial : `${path}.${initial}`)) {
      const initialId = `initial:${path}`
      nodes.set(initialId, { id: initialId, path, kind: "initial", lines: [], header: 0 })
      children.unshift({ id: initialId, width: INITIAL_SIZE, height: INITIAL_SIZE })
      const target = path === "" ? initial : `${path}.${initial}`
      const edgeId = addEdge(initialId, stateNodeId(target), "")
      edges.set(edgeId, { id: edgeId, transition: null, target })
    }
    return {
      id,
      children,
      layoutOptions: {
        ...SPACING,
        "elk.padding": `[top=${header + PAD},left=${PAD},bottom=${PAD},right=${PAD}]`,
        "elk.nodeSize.constraints": "MINIMUM_SIZE",
        "elk.nodeSize.minimum": `(${width},${header + 2 * PAD})`
      }
    }
  }
  const machine = nodeOf("")

  for (const transition of index.transitions) {
    for (const target of transition.targets) {
      const id = addEdge(stateNodeId(transition.source), stateNodeId(target), edgeLabel(transition, "\n"))
      edges.set(id, { id, transition, target })
    }
  }
  return {
    graph: {
      id: "root",
      layoutOptions: { ...LAYOUT, ...SPACING },
      children: [machine],
      edges: elkEdges
    },
    nodes,
    edges
  }
}
