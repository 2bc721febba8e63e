import { Clock, Effect, Exit, Fiber, Predicate, Runtime } from "effect"
import { fromCallback } from "xstate"
import type { AgentEvent, StepError } from "../../machines/agent/agentTypes.ts"
import { callerSpan, continueTrace } from "../observability/tracing.ts"
import { toStepError } from "./toStepError.ts"

/** A database failure (the only kind of early-read failure made again, §4.1). */
const isSqlError = (error: unknown): error is { readonly _tag: "SqlError"; readonly message: string } => Predicate.isTagged(error, "SqlError")

/** The program fiber last started for each agent: one agent's programs never overlap. */
export type ProgramLanes = Map<string, Fiber.RuntimeFiber<void, never>>

/**
 * Completes once the agent's latest offered snapshot is durable (in Postgres). `AgentSystem`
 * passes its SnapshotWriter's `awaitPersisted(version)` for the agent's current version.
 */
export type AwaitDurable = (agentId: string) => Effect.Effect<void>

/**
 * The one bridge from Effect to XState. It runs `program(input)` on the service runtime and
 * maps its Exit to `<step>.done { output }` or `<step>.failed { error }`, where `error` is the
 * typed failure as data (its `_tag`), so the machine's guards can read it. Leaving the state
 * stops the callback actor, which interrupts the fiber; a late result is never delivered.
 *
 * Write-ahead: a program starts only once the snapshot that invoked it is durable
 * (`awaitDurable`). The state that authorises a side effect (`deleting` for `agents.delete`,
 * `applying` for `agents.create`, `waking` for `chat.send`) is therefore saved before the side
 * effect starts, and a crash at any point leaves a snapshot that re-runs the step on restore.
 * This holds for every program, because every program goes through this bridge.
 *
 * A program may name side-effect-free `reads` (rows it needs, not the gateway): they run beside
 * the write-ahead wait, and their result is passed to the program, which then starts without
 * waiting for them (docs/architecture.md §4.1). Reads that failed meanwhile with a SqlError (the
 * database away during the wait) are made again once the snapshot is durable (the first error
 * logged at debug level); only that second try's error reaches the machine. Any other read
 * failure (e.g. GatewayNotFound) reaches the machine as it is, with no second read. Nothing the
 * program sends goes out before the snapshot is durable.
 *
 * A program starts only once the agent's previous one has ended (its uninterruptible parts,
 * such as an `agents.create` already sent, run to completion or to their call timeout), so a
 * delete never overtakes a create in flight.
 */
export const effectActor = <I extends { readonly agentId: string }, O, E, R, P = never>(
  runtime: Runtime.Runtime<R>,
  lanes: ProgramLanes,
  awaitDurable: AwaitDurable,
  step: StepError["step"],
  program: (input: I, read?: P) => Effect.Effect<O, E, R>,
  reads?: (input: I) => Effect.Effect<P, E, R>
) =>
  fromCallback<AgentEvent, I>(({ input, sendBack }) => {
    let stopped = false
    const previous = lanes.get(input.agentId)
    // The transition that invoked this program ran in some fiber (an HTTP request's): the program
    // continues that trace, and its spans (gateway calls included) name the agent.
    const trace = continueTrace(callerSpan(), { attributes: { agent_id: input.agentId } })
    const fiber = Runtime.runFork(runtime)(
      Effect.gen(function* () {
        if (previous !== undefined) yield* Fiber.await(previous)
        // XState starts an invoked actor before it hands the invoking snapshot to observers (which
        // offer it to the writer), all in one synchronous update: yield once so that snapshot is
        // offered, then wait until it is saved.
        yield* Effect.yieldNow()
        // Every log line of the program (its reads too) names its agent (and gateway), for the JSON logs.
        const annotate = Effect.annotateLogs({ agent_id: input.agentId, ...("gatewayId" in input ? { gateway_id: input.gatewayId } : {}) })
        // The reads go beside the wait: a child fiber, interrupted with this one if the snapshot is never saved.
        const read = reads === undefined ? undefined : yield* Effect.fork(annotate(reads(input)))
        yield* awaitDurable(input.agentId)
        // An early read that failed on the database (SqlError: away while the wait lasted) is made
        // again now that the snapshot is saved: the wait, not a stale error, is what an outage
        // costs (§4.1). Any other failure (a missing row) would fail again: it fails the step.
        const run =
          read === undefined || reads === undefined
            ? program(input)
            : Effect.flatMap(
                Effect.catchIf(Fiber.join(read), isSqlError, (error) =>
                  Effect.zipRight(Effect.logDebug("early read failed; read again after the write-ahead save", error.message), reads(input))
                ),
                (value) => program(input, value)
              )
        const exit = yield* Effect.exit(annotate(run))
        const at = yield* Clock.currentTimeMillis
        // Stopped by leaving the state: nobody is listening. Any other end, an interruption from
        // elsewhere (shutdown) included, reaches the machine, or it would wait for ever.
        if (stopped) return
        sendBack(
          Exit.isSuccess(exit)
            ? ({ type: `${step}.done`, at, output: exit.value } as AgentEvent)
            : ({ type: `${step}.failed`, at, error: toStepError(step, exit.cause, at) } as AgentEvent)
        )
      }).pipe(trace)
    )
    lanes.set(input.agentId, fiber)
    fiber.addObserver(() => {
      if (lanes.get(input.agentId) === fiber) lanes.delete(input.agentId)
    })
    return () => {
      stopped = true
      Runtime.runFork(runtime)(Fiber.interrupt(fiber))
    }
  })
