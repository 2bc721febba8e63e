import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, type Option } from "effect"
import { BoardRepo, type BoardRow } from "../store/BoardRepo.ts"
import { GatewayRepo, type GatewayRecord } from "../store/GatewayRepo.ts"
import { makeSharedRead } from "./sharedRead.ts"

export interface SharedRowReadsShape {
  /**
   * The gateway's row, read after this call began (`GatewayRepo.get`); applies asking at the
   * same time share one read (`makeSharedRead`). Errors: SqlError, shared by the read's callers.
   */
  readonly gateway: (gatewayId: string) => Effect.Effect<Option.Option<GatewayRecord>, SqlError>
  /** The board's row, as `gateway` reads the gateway's (`BoardRepo.get`). Errors: SqlError. */
  readonly board: (boardId: string) => Effect.Effect<Option.Option<BoardRow>, SqlError>
}

/**
 * The rows every apply starts with (docs/architecture.md §9.2): a template sync applies its agents
 * `syncConcurrency` at a time, all of one gateway and mostly of a few boards, so each reading its
 * own copy of the same two rows would cost two statements per agent. A shared read is sent after
 * its callers asked, so each still sees every change made before its apply began (a gateway's
 * target is pinned before its row is read: `loadPinnedGateway`).
 */
export class SharedRowReads extends Context.Tag("switchyard/SharedRowReads")<SharedRowReads, SharedRowReadsShape>() {}

/** Live layer: the shared reads run in the layer's scope (a caller that stops waiting cancels nothing). */
export const SharedRowReadsLive = Layer.scoped(
  SharedRowReads,
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const gateways = yield* GatewayRepo
    const boards = yield* BoardRepo
    const identity = (id: string) => id
    return SharedRowReads.of({
      gateway: makeSharedRead(identity, gateways.get, scope),
      board: makeSharedRead(identity, boards.get, scope)
    })
  })
)
