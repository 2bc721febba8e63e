import { Effect, Option } from "effect"
import { AgentSystem } from "../AgentSystem.ts"
import { knownStatesAndTags, snapshotIs } from "../machineVocabulary.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { invalid, notFound } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { agentView } from "./AgentView.ts"

export interface WaitOptions {
  readonly wait_for?: string | undefined
  readonly timeout_ms: number
}

/** Rejects a `wait_for` that names no state or tag of the agent machine (422, nothing sent). */
export const checkWaitFor = (wait: WaitOptions) =>
  wait.wait_for === undefined || knownStatesAndTags.has(wait.wait_for)
    ? Effect.void
    : Effect.fail(invalid(`wait_for: "${wait.wait_for}" is not a state or tag of the agent machine (see GET /api/v1/machines/agent)`))

/** The agent's persisted read model (a deleted one too) as a `status` answer; 404 when there is none. */
export const readModelReply = <const S extends number>(agentId: string, status: S) =>
  Effect.flatMap(AgentRepo, (repo) => repo.get(agentId, { includeDeleted: true })).pipe(
    Effect.flatMap((row) => (Option.isNone(row) ? Effect.fail(notFound("agent")) : Effect.succeed(reply(status, agentView(row.value)))))
  )

/**
 * Answers with the agent's persisted read model. With `wait_for`, first waits up to
 * `timeout_ms` for that state or tag; if it is not reached the answer is 202 (accepted, still
 * under way) with the current state, otherwise `status`.
 */
export const answerAgent = <const S extends number>(agentId: string, wait: WaitOptions, status: S) =>
  Effect.gen(function* () {
    if (wait.wait_for === undefined) return yield* readModelReply(agentId, status)
    const target = wait.wait_for
    const system = yield* AgentSystem
    const reached = yield* system.waitFor(agentId, (snapshot) => snapshotIs(snapshot, target), wait.timeout_ms).pipe(
      Effect.as(true),
      Effect.catchTags({ AgentWaitTimeout: () => Effect.succeed(false), AgentNotFound: () => Effect.succeed(target === "deleted") })
    )
    return yield* readModelReply(agentId, reached ? status : (202 as const))
  })
