import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SharedRowReads, SharedRowReadsLive } from "../../src/agents/SharedRowReads.ts"
import { BoardRepo, type BoardRepoShape, type BoardRow } from "../../src/store/BoardRepo.ts"
import { GatewayRepo, type GatewayRecord, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

/** Repos whose `get` counts its statements and answers the row as it is when the read runs. */
const countingRepos = () => {
  const reads = { gateways: 0, boards: 0 }
  const rows = { gatewayName: "gw", boardName: "board" }
  const gateways = dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", {
    get: (id) =>
      Effect.sync(() => {
        reads.gateways += 1
        return Option.some({ id, name: rows.gatewayName } as GatewayRecord)
      }).pipe(Effect.delay("5 millis"))
  })
  const boards = dieOnUnstubbed<BoardRepoShape>("BoardRepo", {
    get: (id) =>
      Effect.sync(() => {
        reads.boards += 1
        return Option.some({ id, name: rows.boardName } as BoardRow)
      }).pipe(Effect.delay("5 millis"))
  })
  const layer = SharedRowReadsLive.pipe(Layer.provide(Layer.merge(Layer.succeed(GatewayRepo, gateways), Layer.succeed(BoardRepo, boards))))
  return { reads, rows, layer }
}

describe("SharedRowReads (docs/architecture.md §9.2)", () => {
  it.live("applies starting together share one read of their gateway's and their board's row", () => {
    const { reads, layer } = countingRepos()
    return Effect.gen(function* () {
      const rows = yield* SharedRowReads
      const read = yield* Effect.all(
        Array.from({ length: 8 }, () => Effect.all([rows.gateway("gw-1"), rows.board("b1")])),
        { concurrency: "unbounded" }
      )
      expect(read.every(([gateway, board]) => Option.isSome(gateway) && Option.isSome(board))).toBe(true)
      expect(reads).toEqual({ gateways: 1, boards: 1 })
    }).pipe(Effect.provide(layer))
  })

  it.live("a read asked for after a change sees it, even while an earlier read is in flight", () => {
    const { rows: stored, layer } = countingRepos()
    return Effect.gen(function* () {
      const rows = yield* SharedRowReads
      const before = yield* Effect.fork(rows.gateway("gw-1"))
      yield* Effect.sleep("1 millis")
      stored.gatewayName = "renamed"
      const after = yield* rows.gateway("gw-1")
      expect(Option.map(after, (row) => row.name)).toEqual(Option.some("renamed"))
      yield* Effect.asVoid(before.await)
    }).pipe(Effect.provide(layer))
  })
})
