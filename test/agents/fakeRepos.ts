import { Effect, Layer, Option, Redacted } from "effect"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import { BoardRepo, type BoardRow } from "../../src/store/BoardRepo.ts"
import { GatewayRepo, type GatewayRecord } from "../../src/store/GatewayRepo.ts"

/**
 * In-memory repositories for the lifecycle programs. Only what the programs use is stubbed
 * (`GatewayRepo.get`, `BoardRepo.get`, `AgentRepo.stagePendingToken`); every other method dies
 * with its name, so a test shows exactly which storage a program touches (STYLE §2).
 */
export interface FakeStore {
  readonly gateways: Map<string, GatewayRecord>
  readonly boards: Map<string, BoardRow>
  /** Every staged token hash, in order, with `stamp()` taken when it was staged. */
  readonly staged: Array<{ readonly agentId: string; readonly tokenHash: string; readonly stamp: number }>
}

const unstubbed = (method: string) =>
  Effect.dieMessage(`${method} is not stubbed by test/agents/fakeRepos.ts; a lifecycle program should not call it`)

export const makeGatewayRecord = (fields: { id: string; url: string; token: string; workspaceRoot?: string }): GatewayRecord => ({
  id: fields.id,
  name: `gateway ${fields.id}`,
  url: fields.url,
  token: Redacted.make(fields.token),
  workspaceRoot: fields.workspaceRoot ?? "/srv/gw/.openclaw",
  createdAt: new Date(0),
  updatedAt: new Date(0)
})

/**
 * The three repositories over one `FakeStore`. `stamp` orders a staged token against other
 * observations (e.g. `() => sim.calls.length`); it defaults to `Date.now`.
 */
export const makeFakeRepos = (options: { stamp?: () => number } = {}) => {
  const stamp = options.stamp ?? Date.now
  const store: FakeStore = { gateways: new Map(), boards: new Map(), staged: [] }
  const gatewayRepo = Layer.succeed(
    GatewayRepo,
    GatewayRepo.of({
      get: (id) => Effect.sync(() => Option.fromNullable(store.gateways.get(id))),
      insert: () => unstubbed("GatewayRepo.insert"),
      list: unstubbed("GatewayRepo.list"),
      update: () => unstubbed("GatewayRepo.update"),
      remove: () => unstubbed("GatewayRepo.remove")
    })
  )
  const boardRepo = Layer.succeed(
    BoardRepo,
    BoardRepo.of({
      get: (id) => Effect.sync(() => Option.fromNullable(store.boards.get(id))),
      insert: () => unstubbed("BoardRepo.insert"),
      list: () => unstubbed("BoardRepo.list")
    })
  )
  const agentRepo = Layer.succeed(
    AgentRepo,
    AgentRepo.of({
      stagePendingToken: (agentId, tokenHash) => Effect.sync(() => void store.staged.push({ agentId, tokenHash, stamp: stamp() })),
      insert: () => unstubbed("AgentRepo.insert"),
      save: () => unstubbed("AgentRepo.save"),
      live: unstubbed("AgentRepo.live"),
      get: () => unstubbed("AgentRepo.get"),
      list: () => unstubbed("AgentRepo.list"),
      findIdByTokenHash: () => unstubbed("AgentRepo.findIdByTokenHash"),
      findByName: () => unstubbed("AgentRepo.findByName")
    })
  )
  return { store, layer: Layer.mergeAll(gatewayRepo, boardRepo, agentRepo) }
}
