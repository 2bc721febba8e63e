import { Entity } from "@effect/cluster"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, ExecutionStrategy, Exit, FiberSet, Option, Schedule, Scope } from "effect"
import type { Method } from "../gateway/protocol.ts"
import { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent } from "../../machines/agent/agentTypes.ts"
import type { NewAgentRequest } from "../agents/AgentSystem.ts"
import { AgentPersistTimeout } from "../agents/AgentSystemErrors.ts"
import { LocalAgents, PERSIST_TIMEOUT_MS } from "../agents/LocalAgents.ts"
import { GatewayConnectionError } from "../gateway/GatewayError.ts"
import { GatewayLiveness } from "../liveness/GatewayLiveness.ts"
import { GatewayRepo, targetOf } from "../store/GatewayRepo.ts"
import { clusterTakeovers } from "./clusterMetrics.ts"
import { GatewayEntity } from "./GatewayEntity.ts"
import { ClusterStats, GatewayHostedPrograms } from "./GatewayHosting.ts"
import { LocalGatewayClient } from "./LocalGatewayClient.ts"
import { OwnerNudges } from "./OwnerNudges.ts"
import { toRemoteFailure } from "./RemoteFailure.ts"

/** Retry of a gateway's restore while the database is away (an entity cannot fail to start). */
const restoreRetry = Schedule.spaced("1 second")
/** Retry of the read of a gateway's row after a program ended by itself: 0.2, 0.4, 0.8, 1.6, 3.2 s (6.2 s in all). */
const rowReadRetry = Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(5)))

/**
 * The gateway entity on its owner. Activation (first message after a start or a takeover)
 * restores the gateway's actors in the entity's scope (`LocalAgents.hostGateway`) and starts the
 * per-gateway programs; when the shard leaves this runner the scope closes: programs stop,
 * actors drain and save their last snapshots, the gateway's socket here closes, and only then
 * is the shard released. `Retire` (the gateway's row deleted) does the same while the entity
 * stays, hosting nothing. Never passivated while hosted; requests run concurrently
 * (docs/architecture.md "Cluster", §11).
 */
export const GatewayEntityLive = GatewayEntity.toLayer(
  Effect.gen(function* () {
    const address = yield* Entity.CurrentAddress
    const gatewayId = address.entityId
    const local = yield* LocalAgents
    const gateways = yield* LocalGatewayClient
    const repo = yield* GatewayRepo
    const programs = yield* GatewayHostedPrograms
    const stats = yield* ClusterStats
    const liveness = yield* Effect.serviceOption(GatewayLiveness)
    const nudges = yield* OwnerNudges
    // Run after the actors drained (finalizers run in reverse): no socket to this gateway stays
    // here, nor a status a former owner would still show.
    yield* Effect.addFinalizer(() => Option.match(liveness, { onNone: () => Effect.void, onSome: (registry) => registry.forget(gatewayId) }))
    yield* Effect.addFinalizer(() => gateways.forget(gatewayId))
    // A message for a gateway whose row is gone (a deletion's nudge that arrived after the row was
    // deleted) hosts nothing: no actors restored, no programs (docs/architecture.md §11).
    const stored = yield* repo.exists(gatewayId).pipe(
      Effect.tapError((error) => Effect.logWarning(`gateway ${gatewayId}: reading its row failed (${error.message}); retrying`)),
      Effect.retry(restoreRetry),
      Effect.orDie
    )
    // Each program in a scope of its own, so a restart (a new URL or token) ends it cleanly.
    const running = yield* FiberSet.make()
    // The actors in a scope of their own, made after the programs' set (finalizers run in
    // reverse: the actors drain first, as before), so a retirement stops them while the entity stays.
    const entityScope = yield* Effect.scope
    const hosting = yield* Scope.fork(entityScope, ExecutionStrategy.sequential)
    const restarts = yield* Effect.makeSemaphore(1)
    /** Set once the row is known gone (at activation, or by `retire`): nothing starts here again. */
    let retired = !stored
    // A deleted gateway leaves nothing here: programs, actors, socket, status (docs/architecture.md §11).
    // Only the teardown is uninterruptible, as the entity's own finalizers are: a caller that gives
    // up leaves no half-done retirement, while the wait for the permit and the read of the row stay
    // interruptible, so the entity's close (a SIGTERM) never waits for a read on a saturated pool.
    const teardown = Effect.uninterruptible(
      Effect.gen(function* () {
        retired = true
        yield* FiberSet.clear(running)
        yield* Scope.close(hosting, Exit.void)
        yield* gateways.forget(gatewayId)
        if (Option.isSome(liveness)) yield* liveness.value.forget(gatewayId)
        yield* Effect.logInfo(`gateway ${gatewayId} was deleted: its programs, actors and socket here ended`)
      })
    )
    // A deleted row never comes back: it is read outside the permit, so a slow read holds up no restart.
    const retireIfGone = (stillStored: Effect.Effect<boolean, SqlError>) =>
      Effect.gen(function* () {
        if (retired || (yield* stillStored)) return
        yield* restarts.withPermits(1)(Effect.suspend(() => (retired ? Effect.void : teardown)))
      }).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning(`gateway ${gatewayId}: reading its row failed (${error.message}); it stays hosted here until this runner's next read of the stored gateways`)
        )
      )
    const retire = retireIfGone(repo.exists(gatewayId))
    // A program ended by itself: nothing else would ask again soon, so a failed read is retried.
    const retireAfterProgram = retireIfGone(repo.exists(gatewayId).pipe(Effect.retry(rowReadRetry)))
    // A program that ends by itself (the liveness watcher, finding its row gone) asks for that
    // check, from outside the set it is leaving.
    const startPrograms = Effect.suspend(() =>
      retired
        ? Effect.void
        : Effect.forEach(programs, (program) => FiberSet.run(running, Effect.scoped(program(gatewayId)).pipe(Effect.zipRight(Effect.forkIn(retireAfterProgram, entityScope)))), {
            discard: true
          })
    )
    if (stored) {
      const restored = yield* local.hostGateway(gatewayId).pipe(
        Scope.extend(hosting),
        Effect.tapError((error) => Effect.logWarning(`gateway ${gatewayId}: restoring its agents failed (${error.message}); retrying`)),
        Effect.retry(restoreRetry),
        Effect.orDie
      )
      stats.activations += 1
      if (stats.started) {
        stats.takeovers += 1
        clusterTakeovers.inc()
        yield* Effect.logInfo(`took over gateway ${gatewayId}: ${restored} agent actors restored`)
      }
      // Under the permit, as a restart: a retirement asked by the first program to end waits till every one is in the set.
      yield* restarts.withPermits(1)(startPrograms)
    } else {
      yield* Effect.logInfo(`gateway ${gatewayId} is not stored: its entity hosts nothing (a deleted gateway is not revived)`)
    }

    const durable = (agentId: string) => local.durableSnapshot(agentId)
    // One persist timeout for the whole answer (the caller's owner timeout is longer: RoutedAgentSystem).
    const inTime = (agentId: string) =>
      Effect.timeoutFail({ duration: PERSIST_TIMEOUT_MS, onTimeout: () => new AgentPersistTimeout({ agentId, timeoutMs: PERSIST_TIMEOUT_MS }) })
    return GatewayEntity.of({
      Create: ({ payload }) => {
        const request = payload.request as NewAgentRequest
        return local.create(request).pipe(Effect.zipRight(durable(request.agentId)), inTime(request.agentId), Effect.mapError(toRemoteFailure))
      },
      Send: ({ payload }) =>
        // The snapshot the event made, not a second look-up (the actor may have failed since: §6.8).
        local.sendDurable(payload.agentId, payload.event as AgentExternalEvent).pipe(inTime(payload.agentId), Effect.mapError(toRemoteFailure)),
      Snapshot: ({ payload }) => durable(payload.agentId).pipe(inTime(payload.agentId), Effect.mapError(toRemoteFailure)),
      Call: ({ payload }) =>
        Effect.gen(function* () {
          // A forget needs no target: the socket of a gateway just deleted is closed too.
          if (payload.op === "forget") return yield* gateways.forget(gatewayId)
          const gateway = yield* repo.get(gatewayId)
          if (Option.isNone(gateway)) {
            return yield* new GatewayConnectionError({ reason: "unreachable", message: `gateway ${gatewayId} is not stored`, retryable: false })
          }
          const target = targetOf(gateway.value, { onDeviceToken: (token) => repo.setDeviceToken(gatewayId, token) })
          switch (payload.op) {
            case "connect":
              return yield* gateways.connect(target) as Effect.Effect<unknown, GatewayConnectionError>
            case "call":
              return yield* gateways.call(target, payload.method as Method, payload.params as Record<string, unknown>, payload.timeoutMs === undefined ? {} : { timeoutMs: payload.timeoutMs })
          }
        }).pipe(Effect.mapError(toRemoteFailure)),
      Ensure: () => Effect.void,
      Liveness: () =>
        Option.match(liveness, {
          onNone: () => Effect.succeed(null),
          onSome: (registry) => Effect.map(registry.get(gatewayId), (status) => status ?? null)
        }),
      Nudge: ({ payload }) => nudges.deliver(payload.topic, gatewayId),
      RestartPrograms: () => restarts.withPermits(1)(Effect.zipRight(FiberSet.clear(running), startPrograms)),
      Retire: () => retire
    })
  }),
  { maxIdleTime: Duration.infinity, concurrency: "unbounded" }
)

/** Rebuilds a full snapshot (with `matches`, `hasTag`) from a persisted one sent by the owner. */
export const resolvePersisted = (persisted: unknown) => {
  const value = persisted as { value: never; context: never; status?: "active" | "done" }
  return agentMachine.resolveState({ value: value.value, context: value.context, ...(value.status === undefined ? {} : { status: value.status }) })
}
