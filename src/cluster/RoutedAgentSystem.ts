import { Sharding } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect, Either, Layer, Option } from "effect"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import { projectSnapshot } from "../agents/agentProjection.ts"
import { AgentSystem, AgentNotFound, type AgentPersistTimeout, AgentsRestoring, AgentWaitTimeout, type BoardFull } from "../agents/AgentSystem.ts"
import { gatewayOfAgent } from "../store/gatewayAgentRows.ts"
import { LocalAgents, PERSIST_TIMEOUT_MS } from "../agents/LocalAgents.ts"
import { startActivationDriver } from "./ActivationDriver.ts"
import { GatewayEntity } from "./GatewayEntity.ts"
import { resolvePersisted } from "./GatewayEntityLive.ts"
import { GatewayOwnership } from "./GatewayOwnership.ts"
import { rebuild, type RemoteFailure } from "./RemoteFailure.ts"

/** What the owner's answer may take beyond its own persist timeout (the hop between runners, a busy event loop). */
const OWNER_MARGIN_MS = 3_000

/**
 * Longest wait for the owner of a gateway to answer one request before a 503 owner-unavailable:
 * longer than the owner's own persist timeout, so a slow database answers as
 * `AgentPersistTimeout` from the owner, not as an unavailable owner (docs/operations.md §7.3).
 */
export const OWNER_TIMEOUT_MS = PERSIST_TIMEOUT_MS + OWNER_MARGIN_MS

/** How often `waitFor` reads the snapshot from another runner. */
const WAIT_POLL_MS = 150

/**
 * `AgentSystem` for the cluster: every call goes to the owner of the agent's gateway. On the
 * owner, with the gateway hosted (or, but for create, the agent already restored here during its
 * gateway's restore), it calls the local actors directly (no serialisation); else it
 * goes through the gateway entity (`Create`, `Send`, `Snapshot`), and `waitFor` polls the
 * owner's durable snapshot every 150 ms and evaluates the predicate here on the rebuilt snapshot.
 * A wait outlives a handover: one begun here goes on at the new owner when the gateway leaves,
 * and a remote one asks again while the owner is unavailable, until its deadline.
 * An owner that is gone or does not answer within `OWNER_TIMEOUT_MS` is `AgentsRestoring` with reason
 * `owner-unavailable` (503 with Retry-After), never a 500 or a hang. The owner bounds its own answer by
 * the persist timeout (15 s), shorter than the owner timeout (18 s), so a slow database answers
 * `AgentPersistTimeout`. An agent's gateway is read
 * once and cached: an agent never changes gateway (docs/architecture.md "Cluster").
 */
export const RoutedAgentSystemLive = Layer.scoped(
  AgentSystem,
  Effect.gen(function* () {
    const local = yield* LocalAgents
    const ownership = yield* GatewayOwnership
    const sql = yield* SqlClient.SqlClient
    const client = yield* Effect.flatMap(Sharding.Sharding, (sharding) => sharding.makeClient(GatewayEntity))
    const driver = yield* startActivationDriver
    const gateways = new Map<string, string>()

    const gatewayOf = (agentId: string) =>
      Effect.suspend(() => {
        // An actor running here knows its gateway: no lookup on the owner's fast path.
        const known = local.gatewayOf(agentId) ?? gateways.get(agentId)
        if (known !== undefined) return Effect.succeed(known)
        return gatewayOfAgent(agentId).pipe(
          Effect.provideService(SqlClient.SqlClient, sql),
          Effect.mapError(() => new AgentsRestoring({ agentId, reason: "owner-unavailable" })),
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.fail(new AgentNotFound({ agentId })),
              onSome: (gatewayId) => {
                gateways.set(agentId, gatewayId)
                return Effect.succeed(gatewayId)
              }
            })
          )
        )
      })
    // Create needs the whole gateway hosted (a leaving or restoring gateway takes no new actor).
    const isLocal = (gatewayId: string) => ownership.owns(gatewayId) && local.hosts(gatewayId)
    // An agent already restored here during its gateway's restore takes requests before the
    // restore ends; one not restored yet goes through the entity, which queues it until the
    // activation ends. Both stop at once when the gateway leaves (docs/architecture.md §6.6).
    const isLocalFor = (gatewayId: string, agentId: string) => ownership.owns(gatewayId) && (local.hosts(gatewayId) || local.serves(gatewayId, agentId))
    const viaOwner = <A, E>(agentId: string, request: Effect.Effect<A, E>) =>
      request.pipe(
        Effect.timeoutFail({ duration: OWNER_TIMEOUT_MS, onTimeout: () => new AgentsRestoring({ agentId, reason: "owner-unavailable" }) }),
        Effect.catchAll((error) => {
          const tagged = error as { readonly _tag?: string }
          if (tagged._tag === "RemoteFailure") return Effect.fail(rebuild(error as RemoteFailure))
          if (tagged._tag === "AgentsRestoring") return Effect.fail(error as AgentsRestoring)
          return Effect.zipRight(
            Effect.logWarning(`agent ${agentId}: its gateway's owner did not take the request (${String(tagged._tag)})`),
            Effect.fail(new AgentsRestoring({ agentId, reason: "owner-unavailable" }))
          )
        })
      )
    const remoteSnapshot = (agentId: string, gatewayId: string) =>
      viaOwner(agentId, client(gatewayId).Snapshot({ agentId })).pipe(Effect.map(resolvePersisted)) as Effect.Effect<AgentSnapshot, AgentNotFound | AgentsRestoring>

    return AgentSystem.of({
      create: (request) => {
        gateways.set(request.agentId, request.gatewayId)
        if (isLocal(request.gatewayId)) return local.create(request)
        return viaOwner(request.agentId, client(request.gatewayId).Create({ request })).pipe(
          Effect.map(resolvePersisted),
          // create answers no AgentsRestoring: an unavailable owner is a 503 as a database failure is.
          Effect.catchIf(
            (error): error is AgentsRestoring => error._tag === "AgentsRestoring",
            () => Effect.fail(new SqlError({ cause: "owner unavailable", message: `the runner that owns gateway ${request.gatewayId} is unavailable` }))
          )
        ) as Effect.Effect<AgentSnapshot, BoardFull | SqlError | AgentPersistTimeout>
      },
      send: (agentId, event) =>
        Effect.flatMap(gatewayOf(agentId), (gatewayId) =>
          isLocalFor(gatewayId, agentId)
            ? local.send(agentId, event)
            : (viaOwner(agentId, client(gatewayId).Send({ agentId, event })).pipe(Effect.map(resolvePersisted)) as Effect.Effect<AgentSnapshot, AgentNotFound | AgentPersistTimeout | AgentsRestoring>)
        ),
      waitFor: (agentId, predicate, timeoutMs, options) =>
        Effect.flatMap(gatewayOf(agentId), (gatewayId): Effect.Effect<AgentSnapshot, AgentNotFound | AgentsRestoring | AgentWaitTimeout | AgentPersistTimeout> =>
          Effect.gen(function* () {
            const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
            // The last snapshot read from the owner: at the deadline, a wait that saw one times out
            // with its state (a 202), even if the owner was unavailable for the very last read.
            let seen: AgentSnapshot | undefined
            // The owner's last refusal: a wait that never read a snapshot ends with it.
            let refused: AgentsRestoring | undefined
            for (;;) {
              const now = yield* Clock.currentTimeMillis
              if (isLocalFor(gatewayId, agentId)) {
                const waited = yield* Effect.either(local.waitFor(agentId, predicate, Math.max(0, deadline - now), options))
                if (Either.isRight(waited)) return waited.right
                // The actor stopped before the deadline, or its last save was withdrawn, because its
                // gateway left this runner: the wait goes on at the new owner (docs/architecture.md §11, Routing).
                const moved = waited.left._tag === "AgentWaitTimeout" || waited.left._tag === "AgentNotFound" || waited.left._tag === "AgentsRestoring"
                if (!(moved && !isLocalFor(gatewayId, agentId) && (yield* Clock.currentTimeMillis) < deadline)) return yield* waited.left
                continue
              }
              // An owner that is unavailable for a moment (a handover), or an actor being restored or
              // restarted, is asked again until the deadline; an actor past its restart budget
              // (actor-failed) answers at once (docs/architecture.md §6.8). No read outlasts the
              // deadline by more than a poll (a short wait still gets one read its time).
              const snapshot = yield* remoteSnapshot(agentId, gatewayId).pipe(
                Effect.timeoutOption(Math.max(WAIT_POLL_MS, deadline - now)),
                Effect.catchTag("AgentsRestoring", (error) => {
                  refused = error
                  return now < deadline && error.reason !== "actor-failed" ? Effect.succeed(Option.none()) : Effect.fail(error)
                })
              )
              if (Option.isSome(snapshot)) {
                if (predicate(snapshot.value)) return snapshot.value
                seen = snapshot.value
              }
              if ((yield* Clock.currentTimeMillis) >= deadline) {
                if (seen === undefined) return yield* (refused ?? new AgentsRestoring({ agentId, reason: "owner-unavailable" }))
                return yield* new AgentWaitTimeout({ agentId, timeoutMs, statePath: projectSnapshot(seen).statePath })
              }
              yield* Effect.sleep(WAIT_POLL_MS)
            }
          })
        ),
      restoreAll: Effect.gen(function* () {
        for (;;) {
          const state = yield* driver.readiness
          if (state.state !== "restoring") break
          yield* Effect.sleep("50 millis")
        }
        const failure = driver.firstFailure()
        if (failure !== undefined) return yield* failure
        return local.actorCount()
      }),
      readiness: driver.readiness,
      snapshot: (agentId) => local.snapshot(agentId),
      requireActor: (agentId) =>
        Effect.flatMap(gatewayOf(agentId), (gatewayId) =>
          // Through the actors' own answer: one restarting or past its budget is a 503, not a 404 (§6.8).
          isLocalFor(gatewayId, agentId) ? local.require(agentId) : Effect.asVoid(remoteSnapshot(agentId, gatewayId))
        )
    })
  })
)
