import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Data, Duration, Effect, Option, Schedule } from "effect"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent, StepError, TokenSource } from "../../machines/agent/agentTypes.ts"
import { AgentSystem, type AgentNotFound, type AgentPersistTimeout, type AgentsRestoring, type AgentWaitTimeout } from "../agents/AgentSystem.ts"
import { statePathOf } from "../agents/agentProjection.ts"
import { retryOnFailure } from "../gateway/retryPolicies.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import type { SyncAgentResult, SyncJobOptions } from "../store/SyncJobRepo.ts"
import { outcomeOf, pastSettled, readyForUpdate, settledAt } from "./agentSettled.ts"
import { withSpanWhenExported } from "../observability/tracing.ts"
import { SKIP_REASONS } from "./planSync.ts"
import { SYNC_AGENT_ATTEMPTS, syncAgentRetry } from "./syncPolicies.ts"

/** The agent's update ended in `failed` with a transient error: the job may try it again. */
class SyncAgentRetryable extends Data.TaggedError("SyncAgentRetryable")<{ readonly error: StepError }> {}

/** The agent did not settle within the sync's per-agent limit. */
class SyncAgentTimedOut extends Data.TaggedError("SyncAgentTimedOut")<{ readonly timeoutMs: number }> {}

/** The warning recorded per agent when the workspace token could not be kept (docs/operations.md §6.8). */
export const TOKEN_WARNINGS: Partial<Record<TokenSource, string>> = {
  mismatch: "AUTH_TOKEN in AGENTS.md did not match the stored hash; a new token was written",
  missing: "AUTH_TOKEN was missing from AGENTS.md; a new token was written"
}

export interface SyncAgentInput {
  readonly agentId: string
  /** The job: its update carries it, so a resumed job knows its own (`ApplyRequest.syncJob`). */
  readonly jobId: string
  readonly options: SyncJobOptions
  /** The generation an earlier run already sent (stored before sending), if any. */
  readonly sentGeneration: number | null
  /** Updates sent by earlier runs of this job. */
  readonly attempts: number
  /** Limit for the whole agent (every attempt and wait), ms. */
  readonly timeoutMs: number
  /** First delay between a job's attempts, ms. */
  readonly retryBaseMs: number
  /** Stores the generation and attempt number an update is about to be sent with. */
  readonly onSend: (generation: number, attempt: number) => Effect.Effect<void, SqlError>
}

/**
 * An agent that has settled (or given up on): `saved` completes with its result to record once
 * the state that result reads is durable (docs/architecture.md §9.2). Fails only with SqlError
 * (reading whether a vanished agent was deleted).
 */
export interface SyncAgentSettled {
  readonly saved: Effect.Effect<SyncAgentResult, SqlError, AgentRepo>
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`

/** `syncAgent` without its span. */
const syncAgentUntraced = Effect.fnUntraced(function* (input: SyncAgentInput) {
  const system = yield* AgentSystem
  // The agent's limit is a deadline every wait and retry delay is bounded by, not a fiber racing
  // the attempts (docs/architecture.md §9.2): each step in between (a statement, a send) is bounded itself.
  const deadline = (yield* Clock.currentTimeMillis) + input.timeoutMs
  const timedOut = new SyncAgentTimedOut({ timeoutMs: input.timeoutMs })
  /** `system.waitFor` for what is left of the agent's limit; its running out is the agent's timeout. */
  const waitWithin = (predicate: (snapshot: AgentSnapshot) => boolean, options?: { readonly durable?: boolean }) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      now >= deadline
        ? Effect.fail(timedOut)
        : Effect.catchTag(system.waitFor(input.agentId, predicate, deadline - now, options), "AgentWaitTimeout", () => Effect.fail(timedOut))
    )
  let sent = input.sentGeneration
  let attempts = input.attempts
  const update: Omit<Extract<AgentExternalEvent, { type: "agent.update" }>, "at"> = {
    type: "agent.update",
    changes: {},
    force: true,
    options: {
      wake: false,
      resetSession: input.options.resetSessions,
      forceBootstrap: input.options.forceBootstrap,
      rotateToken: input.options.rotateTokens,
      overwrite: input.options.overwrite,
      syncJob: input.jobId
    }
  }
  /**
   * The generation this job stored for its update (attempts > 0; a plan's awaited provisioning
   * stores none) was reached by other updates only (the store goes ahead of the send, §9.2): the
   * agent's last sync update (`syncedBy`, kept through later updates and retries) is not this
   * job's at that generation or later. Then the update was never sent: send it.
   */
  const reachedByOther = (current: AgentSnapshot) => {
    const by = current.context.syncedBy
    return input.attempts > 0 && sent !== null && (by === undefined || by.job !== input.jobId || by.generation < sent)
  }

  let first = true

  const attempt = Effect.gen(function* () {
    // No actor here is no proof the stored update was never sent: this runner may not hold the
    // agent (yet: a gateway taken over, its agents not restored here). The wait reads the owner's
    // snapshot (or waits for the restore); its failures are recorded as any wait's (`waitFailed`).
    const current = system.snapshot(input.agentId) ?? (sent === null ? undefined : yield* waitWithin(() => true, { durable: false }))
    const send = sent === null || current === undefined || current.context.generation < sent || reachedByOther(current)
    // An update an earlier run stored but never sent (stored ahead of its turn, §9.2, or a crash
    // between the store and the send): its attempt was never used, so the send reuses its number.
    const storedUnsent = first && send && sent !== null && input.attempts > 0
    first = false
    if (send) {
      const ready = yield* waitWithin(readyForUpdate)
      const gone = outcomeOf(ready).kind === "gone"
      if (!gone) {
        const generation = ready.context.generation + 1
        if (!storedUnsent) attempts += 1
        yield* input.onSend(generation, attempts)
        const at = yield* Clock.currentTimeMillis
        // Accepted even if the database is slow to save it (AgentPersistTimeout): the actor has it.
        yield* system.send(input.agentId, { ...update, at }).pipe(Effect.catchTag("AgentPersistTimeout", () => Effect.void))
        sent = generation
      }
    }
    // Settled in memory frees the agent's place; its durability is awaited by `saved`, beside the next agents.
    const settled = yield* waitWithin(settledAt(sent ?? 0), { durable: false })
    const outcome = outcomeOf(settled)
    if (outcome.kind === "failed" && outcome.error.transient && attempts < SYNC_AGENT_ATTEMPTS) {
      sent = null
      return yield* new SyncAgentRetryable({ error: outcome.error })
    }
    return outcome
  })

  const stateNow = () => {
    const snapshot = system.snapshot(input.agentId)
    return snapshot === undefined ? "" : ` in ${statePathOf(snapshot.value)}`
  }
  const error = (message: string): SyncAgentResult => ({ status: "error", message, tokenSource: null })
  /** A result read from a settled snapshot: recorded once that snapshot is durable. */
  const settledWith = (result: SyncAgentResult): SyncAgentSettled => ({ saved: savedAs(result) })
  /** A result that no snapshot of the agent stands behind (a timeout, a missing actor). */
  const final = (result: SyncAgentResult): SyncAgentSettled => ({ saved: Effect.succeed(result) })

  type WaitError = AgentWaitTimeout | AgentsRestoring | AgentPersistTimeout | AgentNotFound
  /** What a failed wait on the actor records. */
  const waitFailed = (failure: WaitError): Effect.Effect<SyncAgentResult, SqlError, AgentRepo> => {
    switch (failure._tag) {
      case "AgentWaitTimeout":
        return Effect.succeed(error(`timed out after ${seconds(failure.timeoutMs)} in ${failure.statePath}`))
      case "AgentsRestoring":
        return Effect.succeed(error(failure.why))
      case "AgentPersistTimeout":
        return Effect.succeed(error("the database did not save the agent's state in time"))
      case "AgentNotFound":
        // No actor: deleted (its row says so), or an actor that could not be restored.
        return Effect.flatMap(AgentRepo, (repo) => repo.get(input.agentId)).pipe(
          Effect.map(
            (row): SyncAgentResult =>
              Option.isNone(row) ? { status: "skipped", message: SKIP_REASONS.agentDeleted, tokenSource: null } : error("the agent's actor is not running")
          )
        )
    }
  }
  const isWaitError = <E extends { readonly _tag: string }>(failure: E): failure is Extract<E, WaitError> =>
    failure._tag === "AgentWaitTimeout" || failure._tag === "AgentsRestoring" || failure._tag === "AgentPersistTimeout" || failure._tag === "AgentNotFound"

  /** The result once the agent's settled state is durable: until then a crash could still redo its apply. */
  const savedAs = (result: SyncAgentResult): Effect.Effect<SyncAgentResult, SqlError, AgentRepo> =>
    system.waitFor(input.agentId, pastSettled(sent ?? 0), input.timeoutMs).pipe(Effect.as(result), Effect.catchAll(waitFailed))

  return yield* attempt.pipe(
    // The schedule is built only once an attempt failed: nearly every agent succeeds at once.
    // A delay past the deadline is cut at it: the next attempt then ends as the agent's timeout.
    retryOnFailure({
      schedule: Schedule.modifyDelayEffect(syncAgentRetry(input.retryBaseMs), (_, delay) =>
        Effect.map(Clock.currentTimeMillis, (now) => Duration.min(delay, Duration.millis(Math.max(0, deadline - now))))
      ),
      while: (failure: { readonly _tag: string }) => failure._tag === "SyncAgentRetryable"
    }),
    Effect.map((outcome): SyncAgentSettled => {
      switch (outcome.kind) {
        case "gone":
          return settledWith({ status: "skipped", message: SKIP_REASONS.agentDeleted, tokenSource: null })
        case "failed":
          return settledWith(error(`${outcome.error.tag}: ${outcome.error.message}`))
        case "applied":
          return settledWith({ status: "updated", message: TOKEN_WARNINGS[outcome.tokenSource ?? "minted"] ?? null, tokenSource: outcome.tokenSource })
      }
    }),
    Effect.catchTags({
      SyncAgentRetryable: (failure) => Effect.succeed(settledWith(error(`${failure.error.tag}: ${failure.error.message}`))),
      SyncAgentTimedOut: (failure) => Effect.succeed(final(error(`timed out after ${seconds(failure.timeoutMs)}${stateNow()}`)))
    }),
    Effect.catchIf(isWaitError, (failure) => Effect.map(waitFailed(failure), final))
  )
})

/**
 * Re-applies one agent for a template sync (docs/operations.md §6.8) by sending `agent.update`
 * (force, no wake, the job's options) to its actor and awaiting the
 * generation that update produces. An agent still doing gateway work is awaited first, so a
 * first provisioning keeps its wake. An update already sent by an earlier run of the job (its
 * generation reached by this job's update: `context.syncedBy`) is only awaited, never sent twice;
 * one it stored but never sent goes out with the stored attempt number. A stored update is decided
 * on the agent's snapshot wherever its actor runs (`waitFor` when it is not here), never sent
 * again for want of a local actor. A transient failure is tried again
 * (`SYNC_AGENT_ATTEMPTS`, `syncAgentRetry`); everything is bounded by `timeoutMs`.
 * Output: updated (with the token source; a mismatch or missing token carries a warning),
 * skipped (deleted meanwhile) or error (the machine's last error, or the timeout). Fails only
 * with the SqlError of `onSend`. Its span (`Sync.agent`) only while spans are exported
 * (docs/architecture.md §9.2).
 */
export const syncAgent = (input: SyncAgentInput) => withSpanWhenExported("Sync.agent", {})(syncAgentUntraced(input))
