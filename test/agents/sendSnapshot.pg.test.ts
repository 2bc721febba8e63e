import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Either, Option } from "effect"
import { describe, expect, it } from "vitest"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import { statePathOf } from "../../src/agents/agentProjection.ts"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { AgentRepo } from "../../src/store/AgentRepo.ts"
import type { InProcessService } from "../support/inProcessService.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

const sendLocally = (service: InProcessService, agentId: string, event: AgentExternalEvent) =>
  service.runtime.runPromise(Effect.flatMap(LocalAgents, (local) => Effect.either(local.send(agentId, event))))

/** Holds the agent's row locked (a transaction of its own) until the returned release: its snapshot writes wait meanwhile. */
const lockRow = async (service: InProcessService, agentId: string) => {
  const held = Effect.runSync(Deferred.make<void>())
  const release = Effect.runSync(Deferred.make<void>())
  const done = service.runtime.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql.withTransaction(sql`select id from agents where id = ${agentId} for update`.pipe(Effect.zipRight(Deferred.succeed(held, undefined)), Effect.zipRight(Deferred.await(release))))
    )
  )
  await Effect.runPromise(Deferred.await(held))
  return async () => {
    await Effect.runPromise(Deferred.succeed(release, undefined))
    await done
  }
}

// docs/architecture.md §11: `Send` answers the snapshot its event produced, once saved.
describe("an event sent to a local agent actor (in-process service, simulator)", () => {
  it("answers the snapshot its own event produced, not a later event's that came in while it was saved", async () => {
    await withSimulatedStack({ boardName: "Answers" }, async ({ service, gatewayId }) => {
      const main = await service.runtime.runPromise(Effect.flatMap(AgentRepo, (agents) => agents.mainOf(gatewayId)))
      const mainId = Option.getOrThrow(main).id
      expect((await service.api("GET", `/api/v1/agents/${mainId}`)).body.state).toBe("provisioning.awaiting")

      // Both events reach the actor before the first one's snapshot is saved.
      const unlock = await lockRow(service, mainId)
      const beat = sendLocally(service, mainId, { type: "agent.heartbeat", at: Date.now() })
      const update = sendLocally(service, mainId, { type: "agent.update", at: Date.now(), changes: {}, force: true })
      await unlock()

      const answered = await beat
      expect(Either.isRight(answered) && statePathOf(answered.right.value)).toBe("online")
      const later = await update
      expect(Either.isRight(later) && statePathOf(later.right.value)).not.toBe("online")
    })
  })
})
