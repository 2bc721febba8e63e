import elkModule from "elkjs/lib/elk.bundled.js"
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js"
import { describe, expect, it } from "vitest"
import { agentMachine } from "../../machines/agent/agentMachine.ts"
import { machineIndex, stateNodeId, statechartGraph } from "./clientModules.ts"

// A CommonJS module: Node hands its `module.exports` (the constructor) over as the default export.
const ELK = elkModule as unknown as typeof elkModule.default
const index = machineIndex(JSON.parse(JSON.stringify(agentMachine.config)))
/** About what the browser measures for its sans-serif at these sizes. */
const measure = (text: string, font: string) => text.length * (font.includes("11px") ? 6 : 7)

/** Every laid-out node by id with its absolute box (ELK positions are relative to the parent). */
const boxes = (node: ElkNode, x = 0, y = 0, into = new Map<string, { x: number; y: number; width: number; height: number }>()) => {
  into.set(node.id, { x, y, width: node.width ?? 0, height: node.height ?? 0 })
  for (const child of node.children ?? []) boxes(child, x + (child.x ?? 0), y + (child.y ?? 0), into)
  return into
}

describe("statechartGraph (machine → ELK graph)", () => {
  const { graph, nodes, edges } = statechartGraph(index, measure)

  it("has a node per state, nested as in the machine, and an edge per transition target", () => {
    for (const path of index.states.keys()) expect(nodes.get(stateNodeId(path))?.path, path).toBe(path)
    const provisioning = graph.children?.[0]?.children?.find((child) => child.id === stateNodeId("provisioning"))
    expect(provisioning?.children?.map((child) => child.id)).toContain(stateNodeId("provisioning.awaiting"))
    const targeted = index.transitions.reduce((sum, transition) => sum + transition.targets.length, 0)
    const initials = [...nodes.values()].filter((node) => node.kind === "initial").length
    expect(edges.size).toBe(targeted + initials)
    // What has no edge is written in the box: invoked actors, and what deleting ignores.
    expect(nodes.get(stateNodeId("provisioning.awaiting"))?.lines.map((line) => line.text)).toEqual(["awaiting", "#timed", "gateway.run.started / recordSignal"])
    expect(nodes.get(stateNodeId("deleting"))?.lines.map((line) => line.text)).toContain("ignores agent.update, agent.delete, agent.convert")
  })

  it("lays out with ELK: every state inside its parent, every edge routed", async () => {
    const layout = await new ELK().layout(graph)
    const placed = boxes(layout)
    for (const [path, state] of index.states) {
      const box = placed.get(stateNodeId(path))
      expect(box, path).toBeDefined()
      const parent = state.parent === null ? undefined : placed.get(stateNodeId(state.parent))
      if (box === undefined || parent === undefined) continue
      expect(box.x >= parent.x && box.x + box.width <= parent.x + parent.width + 0.5, `${path} inside ${state.parent} (x)`).toBe(true)
      expect(box.y >= parent.y && box.y + box.height <= parent.y + parent.height + 0.5, `${path} inside ${state.parent} (y)`).toBe(true)
    }
    const routed = ((layout.edges ?? []) as Array<ElkExtendedEdge>).filter((edge) => (edge.sections?.length ?? 0) > 0)
    expect(routed.length).toBe(edges.size)
    // Sized for a screen: the whole chart fits about 2,000 × 1,300 px at full size (wider since
    // online and offline judge the gateway's liveness signals, docs/architecture.md §5.5).
    expect(layout.width).toBeLessThan(2_000)
    expect(layout.height).toBeLessThan(1_300)
  })
})
