import type { SqlClient } from "@effect/sql"
import { SqlClient as SqlClientTag } from "@effect/sql"
import { Context, Effect, Layer, Option, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import { GroupCommit, GroupCommitLive } from "../../src/snapshots/GroupCommit.ts"
import { ActivityRepo } from "../../src/store/ActivityRepo.ts"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import { TransitionRepo } from "../../src/store/TransitionRepo.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

/**
 * The span the save of one heartbeat-like write (a snapshot alone: one statement) runs in, with
 * `tracer` installed when given (as `TracingLive` installs the exporting one).
 */
const saveSpan = async (tracer?: Tracer.Tracer) => {
  const seen: Array<string | undefined> = []
  const agents = dieOnUnstubbed<Context.Tag.Service<AgentRepo>>("AgentRepo", {
    saveMany: (saves) =>
      Effect.map(Effect.option(Effect.currentSpan), (span) => {
        seen.push(Option.isSome(span) ? span.value.name : undefined)
        return saves.map((save) => ({ id: save.id, gatewayId: "g1", createdAt: new Date(0), updatedAt: new Date(0) }))
      })
  })
  const repos = Layer.mergeAll(
    Layer.succeed(AgentRepo, agents),
    Layer.succeed(ActivityRepo, dieOnUnstubbed<Context.Tag.Service<ActivityRepo>>("ActivityRepo", {})),
    Layer.succeed(TransitionRepo, dieOnUnstubbed<Context.Tag.Service<TransitionRepo>>("TransitionRepo", {})),
    Layer.succeed(SqlClientTag.SqlClient, dieOnUnstubbed<SqlClient.SqlClient>("SqlClient", {}))
  )
  const layer = GroupCommitLive.pipe(Layer.provide(repos), Layer.provide(tracer === undefined ? Layer.empty : Layer.setTracer(tracer)))
  const write = { agentId: "a1", version: 1, projection: agentProjectionFixture(), snapshot: {}, activity: [], transitions: [], beat: undefined, pruneTo: undefined }
  await Effect.runPromise(Effect.scoped(Effect.flatMap(Layer.build(layer), (context) => Context.get(context, GroupCommit).write(write))))
  return seen
}

describe("group commit spans", () => {
  it("a batch is an Agents.groupCommit span only while spans are exported (another tracer than Effect's own)", async () => {
    const native = Effect.runSync(Effect.tracer)
    const exporting = Tracer.make({ span: (...args) => native.span(...args), context: (f, fiber) => native.context(f, fiber) })
    expect(await saveSpan(exporting)).toEqual(["Agents.groupCommit"])
    expect(await saveSpan()).toEqual([undefined])
  })
})
