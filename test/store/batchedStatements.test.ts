import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { Deferred, Effect, FiberId, Option } from "effect"
import { describe, expect, it } from "vitest"
import { batchedStatements } from "../../src/store/batchedStatements.ts"

/** A transaction's connection as `withTransaction` provides it (never used: the statements here are fakes). */
const inTransaction = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.provideService(effect, SqlClient.TransactionConnection, [{} as Connection, 0] as const)

describe("batchedStatements", () => {
  it("runs no statement on a caller's transaction connection, neither a lone caller's nor the next batch's forked from it", async () => {
    const gate = Deferred.unsafeMake<void>(FiberId.none)
    const seen: Array<{ inputs: ReadonlyArray<string>; inTransaction: boolean }> = []
    const run = batchedStatements((inputs: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        seen.push({ inputs, inTransaction: Option.isSome(yield* Effect.serviceOption(SqlClient.TransactionConnection)) })
        if (seen.length === 1) yield* Deferred.await(gate)
        return inputs
      })
    )
    // The first caller is inside a transaction: its statement runs on its fiber, and the next one is forked from it.
    const first = Effect.runPromise(inTransaction(run("a")))
    await new Promise((resolve) => setTimeout(resolve, 10))
    const later = [Effect.runPromise(run("b")), Effect.runPromise(run("c"))]
    await Effect.runPromise(Deferred.succeed(gate, undefined))
    expect([await first, ...(await Promise.all(later))]).toEqual(["a", "b", "c"])
    expect(seen).toEqual([
      { inputs: ["a"], inTransaction: false },
      { inputs: ["b", "c"], inTransaction: false }
    ])
  })
})
