import { Effect, Option } from "effect"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { knownStatesAndTags, snapshotIs } from "../agents/machineVocabulary.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { invalid, notFound } from "./ApiError.ts"
import { json } from "./respond.ts"
import { agentView } from "./views.ts"

export interface WaitOptions {
  readonly wait_for?: string | undefined
  readonly timeout_ms: number
}

/** Rejects a `wait_for` that names no state or tag of the agent machine (422, nothing sent). */
export const checkWaitFor = (wait: WaitOptions) =>
  wait.wait_for === undefined || knownStatesAndTags.has(wait.wait_for)
    ? Effect.void
    : Effect.fail(invalid(`wait_for: "${wait.wait_for}" is not a state or tag of the agent machine (see GET /api/v1/machines/agent)`))

/**
 * Answers with the agent's persisted read model. With `wait_for`, first waits up to
 * `timeout_ms` for that state or tag; if it is not reached the answer is 202 (accepted, still
 * under way) with the current state, otherwise `status`.
 */
export const answerAgent = (agentId: string, wait: WaitOptions, status = 200) =>
  Effect.gen(function* () {
    let reached = true
    if (wait.wait_for !== undefined) {
      const target = wait.wait_for
      const system = yield* AgentSystem
      reached = yield* system.waitFor(agentId, (snapshot) => snapshotIs(snapshot, target), wait.timeout_ms).pipe(
        Effect.as(true),
        Effect.catchTags({ AgentWaitTimeout: () => Effect.succeed(false), AgentNotFound: () => Effect.succeed(target === "deleted") })
      )
    }
    const row = yield* Effect.flatMap(AgentRepo, (repo) => repo.get(agentId, { includeDeleted: true }))
    if (Option.isNone(row)) return yield* notFound("agent")
    return json(agentView(row.value), reached ? status : 202)
  })
