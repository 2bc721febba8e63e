import { randomUUID } from "node:crypto"
import { Sharding } from "@effect/cluster"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Data, Effect, Layer, Option, Redacted, Schedule } from "effect"
import type { AgentNotFound, AgentPersistTimeout, AgentsRestoring } from "../agents/AgentSystemErrors.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { GatewayDeleting, GatewayNotFound } from "../agents/GatewayRowErrors.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { ensureOnOwner, nudgeOwner, restartGatewayPrograms } from "../cluster/gatewayOnOwner.ts"
import { OwnerNudges } from "../cluster/OwnerNudges.ts"
import { GatewayOwnership } from "../cluster/GatewayOwnership.ts"
import { generateDeviceIdentity } from "../gateway/DeviceIdentity.ts"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayPairingRequired } from "../gateway/GatewayError.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { GatewayRepo, targetOf, type GatewayRow } from "../store/GatewayRepo.ts"
import { ensureMainAgent } from "./ensureMainAgent.ts"
import { probeGateway, probeTargetId, type GatewayIncompatible, type GatewayRuntime, type GatewayUnreachable } from "./probeGateway.ts"
import { makeDeletionSweep, SWEEP_EVERY_MS } from "./deletionSweep.ts"
import { reapGateway } from "./reapGateway.ts"

/** Gateway names are unique (any case); checked before the gateway is probed. HTTP: 409. */
export class GatewayNameTaken extends Data.TaggedError("GatewayNameTaken")<{ readonly name: string }> {
  override get message(): string {
    return `a gateway named "${this.name}" already exists`
  }
}

/** How a runtime check ended when it did not refuse the gateway. */
export type CheckOutcome =
  | { readonly state: "ready"; readonly runtime: GatewayRuntime }
  /** A remote gateway: this service's device waits for an operator to approve `requestId`. */
  | { readonly state: "pairing"; readonly requestId: string | undefined; readonly message: string }

export interface RegisteredGateway {
  readonly gateway: GatewayRow
  readonly check: CheckOutcome
  /** The gateway-main agent, once the gateway is usable (none while pairing). */
  readonly mainAgentId: string | null
}

export interface NewGatewayFields {
  readonly name: string
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly workspaceRoot: string
}

type SendError = AgentNotFound | AgentsRestoring | AgentPersistTimeout

export interface GatewayAdminShape {
  /**
   * Gateway create (`POST /gateways`, docs/architecture.md §9.1): the runtime check
   * first (reachable, protocol 4, operator scopes, release ≥ `gatewayMinVersion`); a refused
   * gateway stores nothing. Then the row (secrets encrypted) and the gateway-main agent, whose
   * actor starts provisioning. A remote gateway that needs pairing is stored with the device
   * identity its pairing request is bound to, and gets its main agent at `check` once approved.
   * Errors: GatewayNameTaken (409), GatewayUnreachable (502), GatewayIncompatible (422), SqlError
   * (a name taken concurrently: unique violation).
   */
  readonly register: (
    fields: NewGatewayFields
  ) => Effect.Effect<RegisteredGateway, GatewayNameTaken | GatewayUnreachable | GatewayIncompatible | SqlError | AgentPersistTimeout>
  /**
   * Gateway update (`PATCH /gateways/{id}`, docs/architecture.md §9.1): a new url or token is checked before it is
   * stored (nothing changes when it is refused); then the socket is dropped, so agents reconnect
   * with the new target (an apply in flight is redone against it, docs/architecture.md §9.1), and
   * the main agent is re-applied.
   * Errors: GatewayNotFound, GatewayDeleting, GatewayUnreachable, GatewayIncompatible, SqlError.
   */
  readonly update: (
    id: string,
    changes: Partial<NewGatewayFields>
  ) => Effect.Effect<
    { readonly gateway: GatewayRow; readonly check: CheckOutcome | null },
    GatewayNotFound | GatewayDeleting | GatewayUnreachable | GatewayIncompatible | SqlError | SendError
  >
  /**
   * Re-runs the runtime check of a stored gateway and ensures its main agent (after a pairing
   * was approved, or to repair a missing main agent).
   * Errors: GatewayNotFound, GatewayDeleting, GatewayUnreachable, GatewayIncompatible, SqlError.
   */
  readonly check: (id: string) => Effect.Effect<RegisteredGateway, GatewayNotFound | GatewayDeleting | GatewayUnreachable | GatewayIncompatible | SqlError | AgentPersistTimeout>
  /**
   * Gateway delete: marks the row deleting and starts removing our agents from the gateway
   * (`reapGateway`); the row goes once they are gone, also across restarts, and then the
   * gateway's owner lets it go (its programs, actors, socket and liveness status end there;
   * docs/architecture.md §11). Asking again retries agents whose cleanup failed; `force` removes
   * those locally instead.
   * Output: whether the row is already gone, and the agents left. Errors: GatewayNotFound, SqlError, send errors.
   */
  readonly remove: (id: string, options: { readonly force: boolean }) => Effect.Effect<{ readonly deleted: boolean; readonly agentsRemaining: number }, GatewayNotFound | SqlError | SendError>
}

/** Gateway-level lifecycle: create, update, check and delete, with the side effects each implies. */
export class GatewayAdmin extends Context.Tag("switchyard/GatewayAdmin")<GatewayAdmin, GatewayAdminShape>() {}

export const GatewayAdminLive = Layer.scoped(
  GatewayAdmin,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const repo = yield* GatewayRepo
    const client = yield* GatewayClient
    const agents = yield* AgentRepo
    const system = yield* AgentSystem
    const ownership = yield* GatewayOwnership
    const sharding = yield* Sharding.Sharding
    const nudges = yield* OwnerNudges
    const scope = yield* Effect.scope
    const context = yield* Effect.context<AppConfig | GatewayRepo | GatewayClient | AgentRepo | AgentSystem>()

    /** Probes an unsaved target on a throwaway socket, so live agents keep theirs until it is accepted. */
    const probeUnsaved = (target: Omit<GatewayTarget, "id">) => {
      const id = probeTargetId()
      return probeGateway({ ...target, id }, config.gatewayMinVersion).pipe(Effect.ensuring(client.forget(id)))
    }

    /** The outcome of a probe: pairing is an outcome, not a refusal. */
    const outcomeOf = <R>(probe: Effect.Effect<GatewayRuntime, GatewayUnreachable | GatewayIncompatible | GatewayPairingRequired, R>) =>
      probe.pipe(
        Effect.map((runtime): CheckOutcome => ({ state: "ready", runtime })),
        Effect.catchTag("GatewayPairingRequired", (pairing) =>
          Effect.succeed<CheckOutcome>({ state: "pairing", requestId: pairing.requestId, message: pairing.message })
        )
      )

    const existing = (id: string) =>
      repo.get(id).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new GatewayNotFound({ gatewayId: id })), onSome: Effect.succeed }))
      )

    const active = (id: string) =>
      existing(id).pipe(Effect.filterOrFail((gateway) => gateway.deletingAt === null, () => new GatewayDeleting({ gatewayId: id })))

    const mainAgentFor = (gateway: GatewayRow, check: CheckOutcome) =>
      check.state === "ready" ? Effect.map(ensureMainAgent(gateway), (main) => main.agentId) : Effect.succeed(null)

    // Every 2 s while this runner owns a deleting gateway; otherwise only at a takeover, after a
    // delete asked here or on another runner (a nudge), or every 60 s (docs/architecture.md §9.1).
    const sweep = makeDeletionSweep({
      ready: Effect.map(system.readiness, (readiness) => readiness.state === "ready"),
      deleting: repo.deleting,
      owns: ownership.owns,
      ownedShardsKey: ownership.ownedShardsKey,
      reap: (id) => reapGateway(id, { retryFailed: false, force: false })
    })
    yield* Effect.forkScoped(Effect.repeat(sweep.pass, Schedule.spaced(SWEEP_EVERY_MS)))
    nudges.on("deleting", () => Effect.sync(sweep.nudge))

    /**
     * Work for the gateway's owner, sent without waiting for it (the owner's slow polls make good a
     * message that is lost): a failure is logged.
     */
    const toOwner = (id: string, what: string, message: Effect.Effect<void, { readonly message: string }, Sharding.Sharding>) =>
      message.pipe(
        Effect.provideService(Sharding.Sharding, sharding),
        Effect.catchAll((error) => Effect.logWarning(`gateway ${id}: ${what} on its owner failed (${error.message}); its owner's next read does it`)),
        Effect.forkIn(scope),
        Effect.asVoid
      )

    return GatewayAdmin.of({
      register: (fields) =>
        Effect.gen(function* () {
          const taken = (yield* repo.list).some((gateway) => gateway.name.toLowerCase() === fields.name.toLowerCase())
          if (taken) return yield* new GatewayNameTaken({ name: fields.name })
          const id = randomUUID()
          const identity = generateDeviceIdentity()
          const check = yield* outcomeOf(probeUnsaved({ url: fields.url, token: fields.token, device: { identity } }))
          const gateway = yield* repo.insert({ id, ...fields, deviceIdentity: identity })
          // Its owner hosts it now (its watcher runs), not at its next read of the stored gateways.
          yield* toOwner(id, "activation", ensureOnOwner(id))
          return { gateway, check, mainAgentId: yield* mainAgentFor(gateway, check) }
        }).pipe(Effect.provide(context)),
      update: (id, changes) =>
        Effect.gen(function* () {
          const current = yield* active(id)
          const retargeted = (changes.url !== undefined && changes.url !== current.url) || changes.token !== undefined
          // A device token belongs to the old address: a new url is probed without it.
          const device = current.device === undefined ? undefined : changes.url === undefined ? current.device : { identity: current.device.identity }
          const check = retargeted
            ? yield* outcomeOf(probeUnsaved({ url: changes.url ?? current.url, token: changes.token ?? current.token, device }))
            : null
          const updated = yield* repo.update(id, changes)
          if (Option.isNone(updated)) return yield* new GatewayNotFound({ gatewayId: id })
          if (retargeted) {
            yield* client.forget(id)
            // The watcher on the owner reads the new target (docs/architecture.md §11).
            yield* restartGatewayPrograms(id).pipe(
              Effect.provideService(Sharding.Sharding, sharding),
              Effect.catchAll((error) => Effect.logWarning(`gateway ${id}: restarting its watcher failed: ${error.message}`))
            )
            const main = yield* agents.mainOf(id)
            if (Option.isSome(main) && check?.state === "ready") {
              yield* system.send(main.value.id, { type: "agent.update", at: yield* Clock.currentTimeMillis, changes: {}, force: true })
            }
          }
          return { gateway: updated.value, check }
        }).pipe(Effect.provide(context)),
      check: (id) =>
        Effect.gen(function* () {
          const gateway = yield* active(id)
          const target = targetOf(gateway, { onDeviceToken: (token) => repo.setDeviceToken(id, token) })
          const check = yield* outcomeOf(probeGateway(target, config.gatewayMinVersion))
          return { gateway, check, mainAgentId: yield* mainAgentFor(gateway, check) }
        }).pipe(Effect.provide(context)),
      remove: (id, options) =>
        Effect.gen(function* () {
          const marked = yield* repo.markDeleting(id)
          if (!marked) return yield* new GatewayNotFound({ gatewayId: id })
          sweep.nudge()
          if (!ownership.owns(id)) yield* toOwner(id, "the deletion sweep", nudgeOwner(id, "deleting"))
          const agentsRemaining = yield* reapGateway(id, { retryFailed: true, force: options.force }).pipe(Effect.provideService(Sharding.Sharding, sharding))
          return { deleted: agentsRemaining === 0, agentsRemaining }
        }).pipe(Effect.provide(context))
    })
  })
)
