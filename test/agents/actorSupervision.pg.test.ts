import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import { agentActorFailures } from "../../src/observability/metrics.ts"
import { failureOf, withOwner } from "./withOwner.ts"

/** A conversion without its identity: the machine's `isNewIdentity` guard throws, and XState stops the actor in status "error". */
const poison = { type: "agent.convert", at: 1 } as unknown as AgentExternalEvent

const counted = async (outcome: string) => (await agentActorFailures.get()).values.find((value) => value.labels.outcome === outcome)?.value ?? 0

/**
 * An agent actor that fails (a throw in a guard) is supervised (docs/architecture.md §6.8): the
 * caller of the event that killed it and every request waiting on it get a retryable 503 at
 * once, the actor is restarted from its stored snapshot with every event accepted before the
 * failure, and past the restart budget the agent answers 503 "actor-failed", never a timeout.
 */
describe("agent actor supervision", () => {
  it("answers the failing event and a waiting request with a retryable error, then restarts the actor with what it accepted", () =>
    withOwner(async ({ service, system, client, id }) => {
      const restartedBefore = await counted("restarted")
      const waiting = service.runtime.runPromiseExit(system.waitFor(id, () => false, 30_000))
      // The heartbeat is accepted (its write may still be under way) right before the failure.
      const [heartbeat, failed] = await service.runtime.runPromise(
        Effect.all([Effect.exit(system.send(id, { type: "agent.heartbeat", at: 4242, status: "kept" })), Effect.exit(system.send(id, poison))], { concurrency: "unbounded" })
      )
      expect(Exit.isSuccess(heartbeat)).toBe(true)
      // Its answer is the snapshot it made, not the dead actor's (status error) once durable.
      expect(Exit.isSuccess(heartbeat) && heartbeat.value.status).toBe("active")
      expect(Exit.isSuccess(heartbeat) && heartbeat.value.context.reportedStatus).toBe("kept")
      expect(failureOf(failed)).toMatchObject({ _tag: "AgentsRestoring", agentId: id, reason: "actor-restarting" })
      expect(failureOf(await waiting)).toMatchObject({ _tag: "AgentsRestoring", agentId: id })
      expect(await counted("restarted")).toBe(restartedBefore + 1)
      // The agent answers again, restarted from a snapshot that holds the heartbeat.
      await expect.poll(() => system.snapshot(id)?.status, { timeout: 10_000 }).toBe("active")
      expect(system.snapshot(id)?.context.reportedStatus).toBe("kept")
      const answered = await service.runtime.runPromise(system.send(id, { type: "agent.heartbeat", at: 5_000 }))
      expect(answered.status).toBe("active")
      expect(answered.context.lastSeenAt).toBe(5_000)
      const row = (await client.query<{ seen: string }>("select snapshot->'context'->>'lastSeenAt' as seen from agents where id = $1", [id])).rows[0]
      expect(row?.seen).toBe("5000")
    }))

  it("restarts the actor only once what the dead actor accepted is saved: a heartbeat held by a row lock outlasts the backoff", () =>
    withOwner(async ({ service, system, client, id }) => {
      // Another session holds the row: the heartbeat's write waits for the lock, past the 200 ms backoff.
      await client.query("begin")
      await client.query("select id from agents where id = $1 for update", [id])
      const heartbeat = service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: 4343, status: "held" }))
      const failed = await service.runtime.runPromiseExit(system.send(id, poison))
      expect(failureOf(failed)).toMatchObject({ _tag: "AgentsRestoring", reason: "actor-restarting" })
      // Well past the backoff, the agent is still restarting: its restart waits for the write.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(system.snapshot(id)).toBeUndefined()
      await client.query("commit")
      const answered = await heartbeat
      expect(Exit.isSuccess(answered) && answered.value.context.reportedStatus).toBe("held")
      await expect.poll(() => system.snapshot(id)?.status, { timeout: 10_000 }).toBe("active")
      expect(system.snapshot(id)?.context.reportedStatus).toBe("held")
    }))

  it("marks the agent actor-failed past its restart budget: requests get 503 at once, not a timeout", () =>
    withOwner(async ({ service, system, id }) => {
      const givenUpBefore = await counted("given_up")
      // Three restarts a minute are allowed: each failure waits for the agent to answer again.
      for (let failure = 0; failure < 3; failure += 1) {
        const exit = await service.runtime.runPromiseExit(system.send(id, poison))
        expect(failureOf(exit)).toMatchObject({ _tag: "AgentsRestoring", reason: "actor-restarting" })
        await expect.poll(() => system.snapshot(id)?.status, { timeout: 10_000 }).toBe("active")
      }
      const last = await service.runtime.runPromiseExit(system.send(id, poison))
      expect(failureOf(last)).toMatchObject({ _tag: "AgentsRestoring", reason: "actor-failed" })
      expect(await counted("given_up")).toBe(givenUpBefore + 1)
      const later = await service.runtime.runPromiseExit(system.send(id, { type: "agent.heartbeat", at: 6_000 }))
      expect(failureOf(later)).toMatchObject({ _tag: "AgentsRestoring", reason: "actor-failed" })
      const waited = await service.runtime.runPromiseExit(system.waitFor(id, () => true, 30_000))
      expect(failureOf(waited)).toMatchObject({ _tag: "AgentsRestoring", reason: "actor-failed" })
    }))
})
