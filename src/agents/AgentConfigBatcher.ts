import { Context, Deferred, Duration, Effect, Exit, Fiber, FiberId, Layer } from "effect"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import { isTransient, type GatewayError } from "../gateway/GatewayError.ts"
import { openRequests, takeOpen, type Batch, type BatchRequest, type Heartbeats, type Outcome } from "./BatchRequest.ts"
import { CONFIG_READ_MAX_AGE_MS, makeConfigReads } from "./configReads.ts"
import { DEFAULT_HOLD, makePreparationHold, type HoldLimits } from "./preparationHold.ts"
import { gatewayCall } from "./programs/gatewayCall.ts"
import { makeQuickCheck } from "./quickCheck.ts"
import { makeSharedRead } from "./sharedRead.ts"
import { writeConfigBatch, type AgentEntry } from "./writeConfigBatch.ts"

export type { Heartbeats } from "./BatchRequest.ts"
export type { HoldLimits } from "./preparationHold.ts"
export type { AgentEntry } from "./writeConfigBatch.ts"

export interface AgentConfigBatcherShape {
  /**
   * Wants `agents.entries.<gatewayAgentId>` to carry `entry` (its `name`, `identity.name` and
   * `heartbeat`). Requests for one gateway that arrive within the batch window (closed early
   * once every agent preparing on the gateway has finished and asked; see `preparing`), or while
   * its previous patch is under way, go out as ONE `config.get` + `config.patch` holding every
   * entry that differs; nothing is written when nothing differs. Completes with whether this
   * entry changed. Errors: GatewayError (after retries), shared by every request of the batch.
   */
  readonly set: (target: GatewayTarget, gatewayAgentId: string, entry: AgentEntry) => Effect.Effect<boolean, GatewayError>
  /**
   * `set`, then how to read back what the gateway runs (`readBack`: `effectiveHeartbeats`'s
   * answer). With `unchangedLikely` (an update: a template sync keeps every entry), the request
   * goes into the gateway's quick batch (`QUICK_WINDOW_MS`, not held for preparing agents): one
   * `health {probe:true}`, then the config as last read while the gateway has announced no change
   * since (`configReads`), else one `config.get`; the requests whose entry held already
   * are answered at once and take that read (it went out after they asked, and their entry was in
   * the file before). An entry not in the file (yet: an apply asking before its `agents.create`
   * made it) joins the gateway's batch (window and hold, as `set`); one that differs joins it
   * too but is not held for preparing agents (its agent exists); its read goes out after its patch.
   * For one agent the latest request is written; an interrupted caller withdraws its request.
   * Errors: `set`'s; `readBack` fails as `effectiveHeartbeats` does.
   */
  readonly setThenReadBack: (
    target: GatewayTarget,
    gatewayAgentId: string,
    entry: AgentEntry,
    options: { readonly unchangedLikely: boolean }
  ) => Effect.Effect<{ readonly changed: boolean; readonly readBack: Effect.Effect<Heartbeats, GatewayError> }, GatewayError>
  /**
   * Runs the steps that come before an agent's own `set` (session, `agents.create`, readiness)
   * while the gateway's pending batch waits for them. The gateway serialises config writes, so
   * a patch between creates would split a burst into many batches. The wait is bounded
   * (`HoldLimits`): an agent whose steps hang never holds the others' entries.
   */
  readonly preparing: <A, E, R>(gatewayId: string, steps: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * The heartbeat every agent of the gateway runs now, by gateway agent id, from a live
   * `health {probe:true}` sent after this call began (so after the caller's own `set`; a plain
   * `health` answers a cached sample: docs/gateway-protocol.md §10). Agents that ask at the same
   * time share one read (`makeSharedRead`): the answer lists the whole gateway, so one read per
   * agent would cost the fleet's size squared. Each read is bounded by `READ_BACK_TIMEOUT_MS`.
   * Errors: GatewayError (after `gatewayCall`'s retries), shared by every caller of that read.
   */
  readonly effectiveHeartbeats: (target: GatewayTarget) => Effect.Effect<Heartbeats, GatewayError>
}

/**
 * How long a quick batch (requests whose entry most likely holds: a template sync's updates)
 * stays open, ms. Such a batch only reads (`config.get`, a fleet's config is MBs); a request
 * waits for it inside its apply, so the window is short, but not so short that a sync sends a
 * read per agent. The entries that differ go on to the full batch, which patches.
 */
const QUICK_WINDOW_MS = 40

/**
 * Coalesces agent config writes per gateway. The gateway serialises config writes and waits for
 * a hot reload on each (0.3–3.4 s), counts `config.patch` against ~30 writes per minute, and a
 * patch has been seen to restart it mid-provision (docs/operations.md §6.5). So 50 agents provisioned at
 * once must not become 50 patches, and the rename that `agents.update` would make as a separate
 * write rides in the same patch (docs/gateway-protocol.md §5 config.patch, agents.update).
 */
export class AgentConfigBatcher extends Context.Tag("switchyard/AgentConfigBatcher")<AgentConfigBatcher, AgentConfigBatcherShape>() {}

/** A read-back is a check, not the apply: it gets a short call of its own, ms. */
const READ_BACK_TIMEOUT_MS = 5_000

/**
 * `windowMs`: how long a batch stays open for more requests after its first one, at most (it
 * closes as soon as the agents preparing on the gateway have all finished); `hold`: see
 * `HoldLimits`; `configReadMaxAgeMs`: how long a quick batch may answer from a kept config read
 * (`CONFIG_READ_MAX_AGE_MS`).
 */
export const AgentConfigBatcherLive = (windowMs: number, hold: HoldLimits = DEFAULT_HOLD, configReadMaxAgeMs: number = CONFIG_READ_MAX_AGE_MS) =>
  Layer.scoped(
    AgentConfigBatcher,
    Effect.gen(function* () {
      const client = yield* GatewayClient
      const scope = yield* Effect.scope
      const configReads = makeConfigReads(client, configReadMaxAgeMs)
      const batches = new Map<string, Batch>()
      /** Requests whose entry most likely holds, per gateway: only read, then answered or passed on to `batches` (`check`). */
      const quickBatches = new Map<string, Batch>()
      const held = makePreparationHold(windowMs, hold)
      /** The requests each gateway's full batches are writing now. */
      const writing = new Map<string, Set<BatchRequest>>()
      let asked = 0

      const flush = (gatewayId: string): Effect.Effect<void> =>
        Effect.suspend(() => {
          const batch = batches.get(gatewayId)
          if (batch === undefined) return Effect.void
          const requests = takeOpen(batch)
          if (requests.length === 0) return Effect.void
          // The latest request for an agent (by asking, not by joining: a quick batch passes on late) wins; every request still gets the outcome.
          const wanted = new Map([...requests].sort((a, b) => a.seq - b.seq).map((request) => [request.gatewayAgentId, request.entry]))
          const inFlight = writing.get(gatewayId) ?? new Set<BatchRequest>()
          writing.set(gatewayId, inFlight)
          for (const request of requests) inFlight.add(request)
          // A patch's `config.changed` comes before its answer (docs/gateway-protocol.md §6): the kept read is void by then.
          const write = (entries: ReadonlyMap<string, AgentEntry>) => Effect.either(client.withConfigLock(gatewayId, writeConfigBatch(batch.target, entries)))
          return Effect.gen(function* () {
            const outcome = yield* write(wanted)
            // A refusal of the patch itself may be one bad entry's fault: then each entry goes alone,
            // so it does not fail its neighbours. A transient failure (gateway away) is everyone's.
            const blameable = outcome._tag === "Left" && !isTransient(outcome.left) && outcome.left._tag === "GatewayRpcError" && outcome.left.kind === "invalid_request"
            const outcomes =
              blameable && wanted.size > 1
                ? new Map(yield* Effect.forEach([...wanted], ([agentId, entry]) => Effect.map(write(new Map([[agentId, entry]])), (one) => [agentId, one] as const)))
                : new Map([...wanted.keys()].map((agentId) => [agentId, outcome] as const))
            for (const request of requests) {
              const result = outcomes.get(request.gatewayAgentId)!
              const changed = result._tag === "Right" && result.right.has(request.gatewayAgentId)
              yield* result._tag === "Right" ? Deferred.succeed(request.done, { changed, early: undefined }) : Deferred.fail(request.done, result.left)
            }
          }).pipe(
            // Whatever happens to the flush (a defect, an interruption), no waiter is left hanging.
            Effect.onExit((exit) =>
              Effect.zipRight(
                Effect.sync(() => requests.forEach((request) => inFlight.delete(request))),
                exit._tag === "Failure" ? Effect.forEach(requests, (request) => Deferred.failCause(request.done, exit.cause), { discard: true }) : Effect.void
              )
            )
          )
        }).pipe(Effect.provideService(GatewayClient, client))

      /** The agents with a request in the gateway's full batch, waiting or being written: a quick batch never answers for them from its read. */
      const outstanding = (gatewayId: string) =>
        new Set([...openRequests(batches.get(gatewayId)?.requests ?? []), ...(writing.get(gatewayId) ?? [])].map((request) => request.gatewayAgentId))

      /** Sends the gateway's full batch once its window and hold are over (`makePreparationHold`'s `beforeFlush`), in the batcher's scope. */
      const schedule = (gatewayId: string, release: Deferred.Deferred<void>) =>
        held.beforeFlush(gatewayId, release).pipe(Effect.zipRight(flush(gatewayId)), Effect.forkIn(scope), Effect.asVoid)

      const readHealth = makeSharedRead(
        (target: GatewayTarget) => target.id,
        (target: GatewayTarget) =>
          gatewayCall(target, "health", { probe: true }, { timeoutMs: READ_BACK_TIMEOUT_MS }).pipe(
            Effect.map((health) => new Map((health.agents ?? []).flatMap((agent) => (agent.heartbeat === undefined ? [] : [[agent.agentId, agent.heartbeat] as const])))),
            Effect.provideService(GatewayClient, client)
          ),
        scope
      )

      /** Reads a gateway's quick batch, answers the requests whose entry holds, passes the others on (`makeQuickCheck`). */
      const check = makeQuickCheck({ client, scope, configReads, quickBatches, readHealth, outstanding, passOn: (target, request) => join(target, request, false) })

      /** Puts the request in the gateway's quick or full batch, scheduling that batch if it is not yet. Run uninterruptibly: an interruption between the two would stop batching. */
      const join = (target: GatewayTarget, request: BatchRequest, quick: boolean) =>
        Effect.suspend(() => {
          const map = quick ? quickBatches : batches
          const batch = map.get(target.id) ?? { target, requests: [], scheduled: false, release: undefined }
          batch.target = target
          batch.requests.push(request)
          map.set(target.id, batch)
          if (quick) {
            if (batch.scheduled) return Effect.void
            batch.scheduled = true
            return Effect.sleep(Duration.millis(Math.min(QUICK_WINDOW_MS, windowMs))).pipe(Effect.interruptible, Effect.zipRight(check(target.id)), Effect.forkIn(scope), Effect.asVoid)
          }
          const release = (batch.release ??= Deferred.unsafeMake<void>(FiberId.none))
          if (request.prompt) Deferred.unsafeDone(release, Exit.void)
          if (batch.scheduled) return Effect.void
          batch.scheduled = true
          return schedule(target.id, release)
        })

      /** Queues the request in the gateway's batch (quick when its entry most likely holds) and waits for its outcome. */
      const enqueue = (target: GatewayTarget, gatewayAgentId: string, entry: AgentEntry, unchangedLikely: boolean) =>
        Effect.gen(function* () {
          const done = yield* Deferred.make<Outcome, GatewayError>()
          const request: BatchRequest = { gatewayAgentId, entry, done, seq: asked++, withdrawn: false, prompt: false }
          yield* Effect.uninterruptible(join(target, request, unchangedLikely))
          return yield* Deferred.await(done).pipe(
            // An apply left mid-wait (its agent is being deleted, or a newer apply took over) withdraws its
            // entry if not yet sent, also from a quick batch reading now: that batch never passes it on.
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                request.withdrawn = true
                Deferred.unsafeDone(done, Exit.interrupt(FiberId.none))
                for (const map of [quickBatches, batches]) {
                  const pending = map.get(target.id)
                  if (pending !== undefined) pending.requests = pending.requests.filter((request) => request.done !== done)
                }
              })
            )
          )
        })

      return AgentConfigBatcher.of({
        effectiveHeartbeats: readHealth,
        set: (target, gatewayAgentId, entry) => Effect.map(enqueue(target, gatewayAgentId, entry, false), (outcome) => outcome.changed),
        setThenReadBack: (target, gatewayAgentId, entry, options) =>
          Effect.map(enqueue(target, gatewayAgentId, entry, options.unchangedLikely), (outcome) => ({
            changed: outcome.changed,
            readBack: outcome.early === undefined ? readHealth(target) : Fiber.join(outcome.early)
          })),
        preparing: held.preparing
      })
    })
  )
