import { SqlError } from "@effect/sql/SqlError"
import { Cause, Deferred, Effect, Exit, Fiber, FiberId, FiberRef, Option } from "effect"
import { describe, expect, it } from "vitest"
import { batchedOpenedReads, batchedReads } from "../../src/store/batchedReads.ts"

interface Row {
  readonly id: string
  readonly name: string
}

/** A `readMany` that records each statement's ids and answers rows for the ids in `stored`, once `gate` opens (when given). */
const fakeReads = (stored: ReadonlyArray<string>, gate?: Deferred.Deferred<void>) => {
  const statements: Array<ReadonlyArray<string>> = []
  const readMany = (ids: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      statements.push(ids)
      if (gate !== undefined && statements.length === 1) yield* Deferred.await(gate)
      return ids.filter((id) => stored.includes(id)).map((id): Row => ({ id, name: `agent ${id}` }))
    })
  return { statements, readMany }
}

describe("batchedReads (one statement for the reads that arrive while one is in flight)", () => {
  it("a lone read is one statement, answering its row or none", async () => {
    const { statements, readMany } = fakeReads(["a"])
    const read = batchedReads(readMany)
    expect(await Effect.runPromise(read("a"))).toEqual(Option.some({ id: "a", name: "agent a" }))
    expect(await Effect.runPromise(read("missing"))).toEqual(Option.none())
    expect(statements).toEqual([["a"], ["missing"]])
  })

  it("reads that arrive while a statement is in flight share the next one, each answered its own row", async () => {
    const gate = Deferred.unsafeMake<void>(FiberId.none)
    const { statements, readMany } = fakeReads(["a", "b", "c"], gate)
    const read = batchedReads(readMany)
    const first = Effect.runPromise(read("a"))
    await new Promise((resolve) => setTimeout(resolve, 10))
    const later = ["b", "c", "b", "x"].map((id) => Effect.runPromise(read(id)))
    await Effect.runPromise(Deferred.succeed(gate, undefined))
    expect(await first).toEqual(Option.some({ id: "a", name: "agent a" }))
    expect(await Promise.all(later)).toEqual([Option.some({ id: "b", name: "agent b" }), Option.some({ id: "c", name: "agent c" }), Option.some({ id: "b", name: "agent b" }), Option.none()])
    expect(statements).toEqual([["a"], ["b", "c", "x"]])
  })

  it("a failed statement fails every read it served, and the next read runs a statement of its own", async () => {
    let fail = true
    const read = batchedReads((ids: ReadonlyArray<string>) =>
      fail ? Effect.fail(new SqlError({ cause: "down", message: "database down" })) : Effect.succeed(ids.map((id): Row => ({ id, name: id })))
    )
    const failed = await Effect.runPromiseExit(read("a"))
    expect(Exit.isFailure(failed) && failed.cause._tag === "Fail" && failed.cause.error._tag).toBe("SqlError")
    fail = false
    expect(await Effect.runPromise(read("a"))).toEqual(Option.some({ id: "a", name: "a" }))
  })

  it("a reader interrupted while its statement runs leaves no read queued behind it waiting", async () => {
    const gate = Deferred.unsafeMake<void>(FiberId.none)
    const { statements, readMany } = fakeReads(["a", "b"], gate)
    const read = batchedReads(readMany)
    const first = Effect.runFork(read("a"))
    await new Promise((resolve) => setTimeout(resolve, 10))
    const second = Effect.runPromise(read("b"))
    await Effect.runPromise(Fiber.interrupt(first))
    expect(await second).toEqual(Option.some({ id: "b", name: "agent b" }))
    expect(statements).toEqual([["a"], ["b"]])
  })

  it("a reader interrupted at any point of its start leaves later reads answered", async () => {
    // The fiber yields every few operations, so the interruption lands at each point of the start in turn.
    for (const opsBeforeYield of [10, 11, 12, 13, 15, 16]) {
      for (let yields = 0; yields < 12; yields++) {
        const read = batchedReads((ids) => Effect.delay(Effect.succeed(ids.map((id): Row => ({ id, name: id }))), "1 millis"))
        const stuck = await Effect.runPromise(
          Effect.gen(function* () {
            const caller = yield* Effect.fork(Effect.locally(read("a"), FiberRef.currentMaxOpsBeforeYield, opsBeforeYield))
            for (let i = 0; i < yields; i++) yield* Effect.yieldNow()
            yield* Fiber.interrupt(caller)
            return Option.isNone(yield* Effect.timeoutOption(read("b"), "500 millis"))
          })
        )
        expect({ opsBeforeYield, yields, stuck }).toEqual({ opsBeforeYield, yields, stuck: false })
      }
    }
  })
})

describe("batchedOpenedReads (each row opened once per statement, each read answered by its own row)", () => {
  it("a row that does not open kills only the reads of that row; the batch's other reads get theirs", async () => {
    const gate = Deferred.unsafeMake<void>(FiberId.none)
    const { statements, readMany } = fakeReads(["a", "b", "bad", "c"], gate)
    const opened: Array<string> = []
    const read = batchedOpenedReads(readMany, (row) =>
      row.id === "bad" ? Effect.die(new Error("does not decrypt")) : Effect.sync(() => (opened.push(row.id), row.name.toUpperCase()))
    )
    const first = Effect.runPromise(read("a"))
    await new Promise((resolve) => setTimeout(resolve, 10))
    const later = ["b", "bad", "c", "b", "x"].map((id) => Effect.runPromiseExit(read(id)))
    await Effect.runPromise(Deferred.succeed(gate, undefined))
    expect(await first).toEqual(Option.some("AGENT A"))
    const [b, bad, c, b2, x] = await Promise.all(later)
    expect([b, c, b2, x]).toEqual([Exit.succeed(Option.some("AGENT B")), Exit.succeed(Option.some("AGENT C")), Exit.succeed(Option.some("AGENT B")), Exit.succeed(Option.none())])
    expect(Exit.isFailure(bad!) && Cause.isDie(bad.cause)).toBe(true)
    expect(statements).toEqual([["a"], ["b", "bad", "c", "x"]])
    expect(opened).toEqual(["a", "b", "c"])
  })
})
