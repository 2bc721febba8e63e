/**
 * The visualiser's browser modules (src/inspect/client) for Node tests. They are plain ES
 * modules with JSDoc types, served as they are and type-checked by their own tsconfig (DOM lib,
 * `checkJs`); the root project reads no .js, so the parts the tests use are typed here by hand.
 * A drift shows as a failing test, since every one of these is exercised.
 */
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js"
// @ts-expect-error -- a .js module without declarations (see above)
import * as agentActionsJs from "../../src/inspect/client/agentActions.js"
// @ts-expect-error -- a .js module without declarations (see above)
import * as fleetModelJs from "../../src/inspect/client/fleetModel.js"
// @ts-expect-error -- a .js module without declarations (see above)
import * as machineIndexJs from "../../src/inspect/client/machineIndex.js"
// @ts-expect-error -- a .js module without declarations (see above)
import * as readEventStreamJs from "../../src/inspect/client/readEventStream.js"
// @ts-expect-error -- a .js module without declarations (see above)
import * as statechartGraphJs from "../../src/inspect/client/statechartGraph.js"

export interface Transition {
  readonly source: string
  readonly event: string
  readonly guard: string | null
  readonly targets: Array<string>
  readonly actions: Array<string>
}
export interface StateEntry {
  readonly path: string
  readonly key: string
  readonly parent: string | null
  readonly config: { readonly type?: string }
  readonly children: Array<string>
}
export interface MachineIndex {
  readonly states: Map<string, StateEntry>
  readonly transitions: Array<Transition>
}
export interface AgentAction {
  readonly name: string
  readonly event: string
  readonly method: string
  readonly path: (id: string) => string
}
export interface NodeMeta {
  readonly id: string
  readonly path: string
  readonly kind: "machine" | "compound" | "atomic" | "final" | "initial"
  readonly lines: Array<{ readonly text: string; readonly kind: string }>
}
export interface SseMessage {
  readonly event: string
  readonly data: string
  readonly id: string
}

export const { machineIndex, activeStates, handlersOf, possibleTransitions } = machineIndexJs as {
  machineIndex: (definition: unknown) => MachineIndex
  activeStates: (index: MachineIndex, statePath: string) => Array<string>
  handlersOf: (index: MachineIndex, statePath: string, event: string) => Array<Transition>
  possibleTransitions: (index: MachineIndex, statePath: string) => Set<Transition>
}
export const { AGENT_ACTIONS, isAllowed } = agentActionsJs as {
  AGENT_ACTIONS: ReadonlyArray<AgentAction>
  isAllowed: (index: MachineIndex, statePath: string, action: AgentAction) => boolean
}
export const { statechartGraph, stateNodeId } = statechartGraphJs as {
  statechartGraph: (
    index: MachineIndex,
    measure: (text: string, font: string) => number
  ) => { graph: ElkNode & { edges: Array<ElkExtendedEdge> }; nodes: Map<string, NodeMeta>; edges: Map<string, { transition: Transition | null; target: string }> }
  stateNodeId: (path: string) => string
}
export const { sseParser } = readEventStreamJs as {
  sseParser: (onMessage: (message: SseMessage) => void, onRetry?: (ms: number) => void, lastEventId?: string) => (chunk: string) => void
}

export type StateCounts = Record<string, number>
export interface FleetSummary {
  total: number
  by_state: StateCounts
  gateways: Array<{ gateway_id: string; total: number; by_state: StateCounts }>
  boards: Array<{ board_id: string | null; gateway_id: string; total: number; by_state: StateCounts }>
  problems: Record<string, unknown>
}
export interface AgentFilter {
  q?: string
  state?: string
  status?: string
  gateway_id?: string
  board_id?: string
  problem?: string
}

export const { applyChange, expectedCount, orderedStates, problemKinds, problemOf } = fleetModelJs as {
  applyChange: (summary: FleetSummary, change: { from: string | null; to: string; gatewayId: string; boardId: string | null }) => boolean
  expectedCount: (summary: FleetSummary, filter: AgentFilter) => number | null
  orderedStates: (counts: StateCounts) => Array<[string, number]>
  problemKinds: (summary: FleetSummary) => Array<{ kind: string; count: number }>
  problemOf: (agent: {
    state: string
    status?: string
    problem?: unknown
    liveness?: { offline_cause?: string | null } | null
    workspace?: { drifted?: Array<string> } | null
  }) => string | null
}
