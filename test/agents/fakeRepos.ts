import { Effect, Layer, Option, Redacted } from "effect"
import { AgentRepo, type AgentRepoShape } from "../../src/store/AgentRepo.ts"
import { BoardRepo, type BoardRepoShape, type BoardRow } from "../../src/store/BoardRepo.ts"
import { GatewayRepo, type GatewayRecord, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { TaskRepo, type TaskRepoShape } from "../../src/store/TaskRepo.ts"
import { WorkspaceHashesTest } from "../../src/store/WorkspaceHashes.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

/**
 * In-memory repositories for the lifecycle programs. Only what the programs use is stubbed
 * (`GatewayRepo.get`/`getShared`, `BoardRepo.get`/`getShared`, `AgentRepo.stagePendingToken`/`stagedTokenHash`/`mainOf`,
 * `TaskRepo.releaseAgent`); every other method dies
 * with its name, so a test shows exactly which storage a program touches (docs/architecture.md §10 rule 11).
 */
export interface FakeStore {
  readonly gateways: Map<string, GatewayRecord>
  readonly boards: Map<string, BoardRow>
  /** Every staged token hash, in order, with `stamp()` taken when it was staged. */
  readonly staged: Array<{ readonly agentId: string; readonly tokenHash: string; readonly stamp: number }>
  /** gateway id → its main agent, as `AgentRepo.mainOf` answers. */
  readonly mains: Map<string, { readonly id: string; readonly sessionKey: string }>
  /** Agent ids whose tasks were released, in order. */
  readonly released: Array<string>
}

export const makeGatewayRecord = (fields: { id: string; url: string; token: string; workspaceRoot?: string }): GatewayRecord => ({
  id: fields.id,
  name: `gateway ${fields.id}`,
  url: fields.url,
  token: Redacted.make(fields.token),
  workspaceRoot: fields.workspaceRoot ?? "/srv/gw/.openclaw",
  deletingAt: null,
  createdAt: new Date(0),
  updatedAt: new Date(0)
})

/** The goal board "Launch Board" (b1) of the gateway `gatewayId`, taking `maxAgents` agents. */
export const makeGoalBoard = (gatewayId: string, maxAgents: number): BoardRow => ({
  id: "b1",
  gatewayId,
  name: "Launch Board",
  boardType: "goal",
  objective: "Ship the launch",
  successMetrics: null,
  targetDate: null,
  goalConfirmed: true,
  maxAgents,
  paused: false,
  createdAt: new Date(0),
  updatedAt: new Date(0)
})

/**
 * The four repositories over one `FakeStore`. `stamp` orders a staged token against other
 * observations (e.g. `() => sim.calls.length`); it defaults to `Date.now`.
 */
export const makeFakeRepos = (options: { stamp?: () => number } = {}) => {
  const stamp = options.stamp ?? Date.now
  const store: FakeStore = { gateways: new Map(), boards: new Map(), staged: [], mains: new Map(), released: [] }
  const gatewayRepo = Layer.succeed(
    GatewayRepo,
    dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", {
      get: (id) => Effect.sync(() => Option.fromNullable(store.gateways.get(id))),
      getShared: (id) => Effect.sync(() => Option.fromNullable(store.gateways.get(id)))
    })
  )
  const boardRepo = Layer.succeed(
    BoardRepo,
    dieOnUnstubbed<BoardRepoShape>("BoardRepo", {
      get: (id) => Effect.sync(() => Option.fromNullable(store.boards.get(id))),
      getShared: (id) => Effect.sync(() => Option.fromNullable(store.boards.get(id)))
    })
  )
  const agentRepo = Layer.succeed(
    AgentRepo,
    dieOnUnstubbed<AgentRepoShape>("AgentRepo", {
      stagePendingToken: (agentId, tokenHash) => Effect.sync(() => void store.staged.push({ agentId, tokenHash, stamp: stamp() })),
      // Programs run here one apply at a time to completion: nothing is left staged by an interrupted one.
      stagedTokenHash: () => Effect.succeed(Option.none()),
      mainOf: (gatewayId) => Effect.sync(() => Option.fromNullable(store.mains.get(gatewayId)))
    })
  )
  const taskRepo = Layer.succeed(
    TaskRepo,
    dieOnUnstubbed<TaskRepoShape>("TaskRepo", {
      releaseAgent: (agentId) => Effect.sync(() => store.released.push(agentId))
    })
  )
  return { store, layer: Layer.mergeAll(gatewayRepo, boardRepo, agentRepo, taskRepo, WorkspaceHashesTest) }
}
