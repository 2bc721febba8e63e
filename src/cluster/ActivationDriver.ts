import { Sharding } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Effect, Ref, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { Readiness } from "../agents/AgentSystemErrors.ts"
import { LocalAgents } from "../agents/LocalAgents.ts"
import { GatewayEntity } from "./GatewayEntity.ts"
import { ClusterStats } from "./GatewayHosting.ts"
import { GatewayOwnership } from "./GatewayOwnership.ts"
import { cleanProcessedClusterMessages } from "../store/cleanProcessedClusterMessages.ts"
import { fencePeriodMs, fenceStaleRunnersPass, reapUnreachableRunners } from "./RunnerReaper.ts"
import { markSessionlessRunnersUnhealthy } from "./sessionlessRunners.ts"
import { RUNNER_SESSION_PREFIX } from "./ClusterLive.ts"

/** How often owned gateways are checked for activation (a takeover costs at most this beyond the lock). */
const ENSURE_EVERY = "1 second"
/**
 * How long the stored gateway ids are reused by the checks while this runner's set of shards stays
 * the same (a takeover changes it, and reads them at once). A gateway registered later is
 * activated by its registration (`ensureOnOwner`); this read is the fallback for one whose
 * `Ensure` was lost, as it is when the gateway's shard moves between the new owner's read and the
 * registration (at a runner's join): kept at 10 s, a statement every 10 s is cheap beside a
 * gateway unhosted for a minute.
 */
const GATEWAY_IDS_FOR_MS = 10_000
/** How often other runners are pinged (ms). */
const REAP_EVERY_MS = 2_000
/** How often the engine's processed messages are cleaned (docs/operations.md §7.4). */
const CLEAN_EVERY = "1 hour"
/** Longest wait for one gateway's activation before the driver tries it again. */
const ENSURE_TIMEOUT = "2 minutes"

/**
 * Entities start on their first message, so after a start or a takeover this sends `Ensure` to
 * every stored gateway whose shard this runner holds and which is not hosted yet, at start
 * (awaited: readiness) and then every second, reading the stored gateways only when its set of
 * shards changed, every 10 s, or to confirm one to activate; a gateway hosted here that such a read
 * no longer finds gets `Retire` (docs/architecture.md §11). Readiness is `ready`
 * once this runner has joined and every gateway it owns is hosted. Joined: runners with no
 * database session are marked unhealthy; then a lone runner holds every shard (1.2 s at most),
 * or, with other live runners, its shard set is stable and they were pinged once: an `Ensure` that failed at start is tried again every second,
 * readiness staying `restoring` with the gateways it waits for as the reason. `failed` if a
 * stored agent could not be restored. Other runners are pinged every 2 s, and fenced every 2 or
 * 4 s (`fencePeriodMs`) in a loop of its own, from the join on, whatever the readiness, and the engine's processed messages older than a day are
 * deleted hourly (`cleanProcessedClusterMessages`). Returns the readiness; the loops and every `Ensure` run in
 * the caller's scope (they end with it).
 */
export const startActivationDriver = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const config = yield* AppConfig
  const ownership = yield* GatewayOwnership
  const local = yield* LocalAgents
  const stats = yield* ClusterStats
  const client = yield* Effect.flatMap(Sharding.Sharding, (sharding) => sharding.makeClient(GatewayEntity))
  const scope = yield* Effect.scope
  const joined = yield* Ref.make<Readiness>({ state: "restoring" })
  const inFlight = new Set<string>()

  /** Activates one gateway; answers whether it is hosted here now. */
  const ensure = (gatewayId: string) =>
    Effect.suspend(() => {
      inFlight.add(gatewayId)
      return client(gatewayId).Ensure().pipe(
        Effect.timeout(ENSURE_TIMEOUT),
        Effect.as(true),
        Effect.catchAll((error) => Effect.as(Effect.logWarning(`gateway ${gatewayId}: activation did not complete (${String(error._tag)}); trying again`), false)),
        Effect.ensuring(Effect.sync(() => inFlight.delete(gatewayId)))
      )
    })
  // The stored gateway ids are read again when this runner's set of shards changed (a takeover),
  // when they are older than GATEWAY_IDS_FOR_MS, or when they name a gateway to activate (so a
  // deleted one is not activated again). A settled runner reads them once every
  // GATEWAY_IDS_FOR_MS (docs/architecture.md §11).
  let gatewayIds: { ids: ReadonlyArray<string>; shards: string; at: number } | undefined
  const toActivate = (ids: ReadonlyArray<string>) => ids.filter((id) => ownership.owns(id) && !local.hosts(id) && !inFlight.has(id))
  // A gateway hosted here whose row the read no longer finds is retired (its entity checks the
  // row again): this makes good a `Retire` that was lost, or whose program could not ask for it
  // (docs/architecture.md §11).
  // One retirement in flight per gateway: a read while one is still running asks for no other.
  const retiring = new Set<string>()
  const retire = (gatewayId: string) =>
    client(gatewayId).Retire().pipe(
      Effect.timeout(ENSURE_TIMEOUT),
      Effect.catchAll((error) => Effect.logWarning(`gateway ${gatewayId}: its row is gone; letting it go did not complete (${String(error._tag)}); trying again at the next read`)),
      Effect.ensuring(Effect.sync(() => retiring.delete(gatewayId)))
    )
  const retireUnstored = (ids: ReadonlyArray<string>) =>
    Effect.suspend(() => {
      const stored = new Set(ids)
      const gone = local.hostedGateways().filter((id) => !stored.has(id) && !retiring.has(id))
      for (const id of gone) retiring.add(id)
      return Effect.forEach(gone, (id) => Effect.forkIn(retire(id), scope), { discard: true })
    })
  const readGatewayIds = Effect.suspend(() => {
    const shards = ownership.ownedShardsKey()
    const at = performance.now()
    return sql<{ id: string }>`select id from gateways`.pipe(
      Effect.map((rows) => rows.map((row) => row.id)),
      Effect.tap((ids) => Effect.sync(() => void (gatewayIds = { ids, shards, at }))),
      Effect.tap(retireUnstored)
    )
  })
  const ownedNotHosted = Effect.suspend(() => {
    const cached = gatewayIds
    const fresh = cached !== undefined && cached.shards === ownership.ownedShardsKey() && performance.now() - cached.at < GATEWAY_IDS_FOR_MS
    if (fresh && toActivate(cached.ids).length === 0) return Effect.succeed([])
    return Effect.map(readGatewayIds, toActivate)
  })
  const pass = ownedNotHosted.pipe(
    Effect.flatMap((ids) => Effect.forEach(ids, (id) => Effect.forkIn(ensure(id), scope), { discard: true })),
    Effect.catchAll((error) => Effect.logWarning("gateway activation pass failed", error))
  )

  // Start-up stages in ms since the process started, logged with the join (docs/architecture.md §11).
  const stages: Array<string> = []
  const stage = (name: string) => Effect.sync(() => void stages.push(`${name} ${Math.round(process.uptime() * 1000)}`))
  const start = Effect.gen(function* () {
    yield* stage("driver")
    // The runner is registered once it holds a shard.
    const holdsShard = Effect.suspend(() => (ownership.ownedShards() > 0 ? Effect.void : Effect.fail("none" as const)))
    yield* Effect.retry(holdsShard, Schedule.spaced("50 millis"))
    yield* stage(`first shard (${ownership.ownedShards()})`)
    // A runner with no database session is dead: no ping (2.5 s on a dead address) is needed to
    // move its shards (docs/architecture.md §11).
    const peers = yield* markSessionlessRunnersUnhealthy(ownership.self, RUNNER_SESSION_PREFIX)
    if (peers === 0) {
      // A lone runner (a restart of the only one) has nobody to ping or wait for: it has joined
      // once it holds every shard, those of dead runners reassigned within a refresh (1 s).
      const holdsAll = Effect.suspend(() => (ownership.ownedShards() >= ownership.shardsPerGroup ? Effect.void : Effect.fail("moving" as const)))
      yield* holdsAll.pipe(Effect.retry(Schedule.spaced("50 millis")), Effect.timeout("1200 millis"), Effect.ignore)
      yield* stage("shards")
    } else {
      // Joined: the runner holds shards and the set did not change over the last 250 ms.
      let previous = -1
      for (;;) {
        const owned = ownership.ownedShards()
        if (owned > 0 && owned === previous) break
        previous = owned
        yield* Effect.sleep("250 millis")
      }
      yield* stage("shards")
      yield* reapUnreachableRunners(ownership.self).pipe(Effect.timeout("15 seconds"), Effect.ignore)
      yield* stage("pinged")
      // Shards of runners found dead are reassigned within a refresh (1 s).
      if (ownership.ownedShards() < previous || previous < ownership.shardsPerGroup) yield* Effect.sleep("1200 millis")
    }
    // Pinging and fencing other runners do not wait for this runner's readiness: a gateway that
    // keeps failing here must not keep a hung runner's locks held.
    // Two loops: a ping of a hung peer holds its pass up to 5 s, and must not delay the fence.
    yield* Effect.forkScoped(Effect.repeat(reapUnreachableRunners(ownership.self), Schedule.spaced(REAP_EVERY_MS)))
    const fence = fenceStaleRunnersPass(ownership.self, config.shardLockExpirationMs)
    yield* Effect.forkScoped(Effect.repeat(fence, Schedule.spaced(fencePeriodMs(config.shardLockExpirationMs, REAP_EVERY_MS))))
    const clean = cleanProcessedClusterMessages().pipe(Effect.catchAll((error) => Effect.logWarning("cleaning the engine's processed messages failed", error)))
    yield* Effect.forkScoped(Effect.repeat(clean, Schedule.spaced(CLEAN_EVERY)))
    yield* stage("settled")
    // Every gateway owned now is hosted before readiness: one that failed is tried again.
    for (;;) {
      const ids = yield* ownedNotHosted.pipe(Effect.retry(Schedule.spaced("1 second")))
      if (ids.length === 0) break
      const hosted = yield* Effect.forEach(ids, ensure, { concurrency: 8 })
      const waiting = ids.filter((_, index) => hosted[index] !== true)
      if (waiting.length === 0) break
      yield* Ref.set(joined, { state: "restoring", reason: `activating ${waiting.length} owned gateway(s) failed, retrying: ${waiting.slice(0, 5).join(", ")}` })
      yield* Effect.sleep(ENSURE_EVERY)
    }
    stats.started = true
    yield* Ref.set(joined, { state: "ready" })
    yield* stage("hosted")
    yield* Effect.logInfo(`joined the cluster as ${ownership.self}: ${ownership.ownedShards()} shards, ${local.actorCount()} agent actors restored (ms since start: ${stages.join(", ")})`)
    yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(ENSURE_EVERY)))
  })
  yield* Effect.forkScoped(start)

  const readiness: Effect.Effect<Readiness> = Effect.map(Ref.get(joined), (state): Readiness => {
    const failures = local.failures()
    if (failures.length > 0) return { state: "failed", reason: failures.map((failure) => failure.message).join("; ") }
    return state
  })
  return { readiness, firstFailure: () => local.failures()[0] }
})
