import { Context, Data, Deferred, Duration, Effect, Equal, Layer, Schedule } from "effect"
import type { HeartbeatConfig } from "../../machines/agent/agentTypes.ts"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayError } from "../gateway/GatewayError.ts"
import { gatewayCall } from "./programs/gatewayCall.ts"

export interface HeartbeatConfigBatcherShape {
  /**
   * Wants `agents.entries.<gatewayAgentId>.heartbeat = heartbeat` on the gateway. Requests for
   * one gateway that arrive within the batch window (or while its previous patch is under way)
   * go out as ONE `config.get` + `config.patch` with every entry that differs; nothing is
   * written when nothing differs. Completes with whether this entry changed.
   * Errors: GatewayError (after retries), shared by every request of the failed batch.
   */
  readonly set: (target: GatewayTarget, gatewayAgentId: string, heartbeat: HeartbeatConfig) => Effect.Effect<boolean, GatewayError>
}

/**
 * Coalesces heartbeat-config writes per gateway. Each `config.patch` counts against the
 * gateway's ~30 writes per minute per method, and a patch of `agents.list` once restarted the
 * gateway mid-provision (Mission Control #317), so 50 agents provisioned at once must not
 * become 50 patches (gateway protocol §5 config.patch).
 */
export class HeartbeatConfigBatcher extends Context.Tag("switchyard/HeartbeatConfigBatcher")<
  HeartbeatConfigBatcher,
  HeartbeatConfigBatcherShape
>() {}

interface Request {
  readonly gatewayAgentId: string
  readonly heartbeat: HeartbeatConfig
  readonly done: Deferred.Deferred<boolean, GatewayError>
}

interface Batch {
  target: GatewayTarget
  requests: Request[]
  scheduled: boolean
}

const entryHeartbeat = (config: Record<string, unknown> | null | undefined, agentId: string): unknown => {
  const agents = config?.["agents"]
  if (typeof agents !== "object" || agents === null || !("entries" in agents)) return undefined
  const entries = agents.entries
  if (typeof entries !== "object" || entries === null || !(agentId in entries)) return undefined
  const entry = (entries as Record<string, unknown>)[agentId]
  return typeof entry === "object" && entry !== null && "heartbeat" in entry ? entry.heartbeat : undefined
}

const sameHeartbeat = (current: unknown, wanted: HeartbeatConfig) =>
  typeof current === "object" &&
  current !== null &&
  Equal.equals(
    Data.struct({ every: (current as HeartbeatConfig).every, target: (current as HeartbeatConfig).target }),
    Data.struct({ every: wanted.every, target: wanted.target })
  )

/** A stale `baseHash` (any `agents.create` changes the hash): re-read and re-apply. */
const onConflict = {
  schedule: Schedule.jittered(Schedule.spaced("100 millis")),
  times: 8,
  while: (error: GatewayError) => error._tag === "GatewayRpcError" && error.kind === "config_conflict"
}

/** One batch: read the config, patch every entry that differs, under the gateway's config lock. */
const writeBatch = (target: GatewayTarget, wanted: ReadonlyMap<string, HeartbeatConfig>) =>
  Effect.gen(function* () {
    const config = yield* gatewayCall(target, "config.get", {})
    const current = config.config ?? config.parsed
    const changed = [...wanted].filter(([agentId, heartbeat]) => !sameHeartbeat(entryHeartbeat(current, agentId), heartbeat))
    if (changed.length === 0) return new Set<string>()
    const entries = Object.fromEntries(changed.map(([agentId, heartbeat]) => [agentId, { heartbeat }]))
    yield* gatewayCall(target, "config.patch", {
      raw: JSON.stringify({ agents: { entries } }),
      baseHash: config.hash,
      note: `switchyard: heartbeat for ${changed.length} agent(s)`
    })
    return new Set(changed.map(([agentId]) => agentId))
  }).pipe(Effect.retry(onConflict))

/** `windowMs`: how long a batch stays open for more requests after its first one. */
export const HeartbeatConfigBatcherLive = (windowMs: number) =>
  Layer.scoped(
    HeartbeatConfigBatcher,
    Effect.gen(function* () {
      const client = yield* GatewayClient
      const scope = yield* Effect.scope
      const batches = new Map<string, Batch>()

      const flush = (gatewayId: string): Effect.Effect<void> =>
        Effect.gen(function* () {
          const batch = batches.get(gatewayId)
          if (batch === undefined) return
          const requests = batch.requests
          batch.requests = []
          batch.scheduled = false
          // The last request for an agent wins; every request still gets the outcome.
          const wanted = new Map(requests.map((request) => [request.gatewayAgentId, request.heartbeat]))
          const outcome = yield* Effect.either(client.withConfigLock(gatewayId, writeBatch(batch.target, wanted)))
          for (const request of requests) {
            yield* outcome._tag === "Right"
              ? Deferred.succeed(request.done, outcome.right.has(request.gatewayAgentId))
              : Deferred.fail(request.done, outcome.left)
          }
        }).pipe(Effect.provideService(GatewayClient, client))

      const schedule = (gatewayId: string) =>
        Effect.sleep(Duration.millis(windowMs)).pipe(Effect.zipRight(flush(gatewayId)), Effect.forkIn(scope), Effect.asVoid)

      return HeartbeatConfigBatcher.of({
        set: (target, gatewayAgentId, heartbeat) =>
          Effect.gen(function* () {
            const done = yield* Deferred.make<boolean, GatewayError>()
            const batch = batches.get(target.id) ?? { target, requests: [], scheduled: false }
            batch.target = target
            batch.requests.push({ gatewayAgentId, heartbeat, done })
            batches.set(target.id, batch)
            if (!batch.scheduled) {
              batch.scheduled = true
              yield* schedule(target.id)
            }
            return yield* Deferred.await(done)
          })
      })
    })
  )
