import { Sharding } from "@effect/cluster"
import { Effect, Layer, Option, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { GatewayClient, type GatewayHello } from "../gateway/GatewayClient.ts"
import { GatewayConnectionError, GatewayTimeoutError, type GatewayError } from "../gateway/GatewayError.ts"
import type { MethodResult } from "../gateway/protocol.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { GatewayEntity } from "./GatewayEntity.ts"
import { GatewayOwnership } from "./GatewayOwnership.ts"
import { LocalGatewayClient } from "./LocalGatewayClient.ts"
import { rebuild, type RemoteFailure } from "./RemoteFailure.ts"

/** A forget forwarded to the gateway's owner is tried 3 times, 500 ms apart (docs/architecture.md §9.1 "Update"). */
const FORGET_RETRY = Schedule.addDelay(Schedule.recurs(2), () => "500 millis")

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Time the owner gets beyond the call's own timeout before the call fails here. */
const FORWARD_MARGIN_MS = 5_000

/**
 * `GatewayClient` for the cluster: a call for a stored gateway this runner does not own goes to
 * the owner (the gateway entity's `Call`), which makes it on its socket, so each gateway has one
 * Switchyard socket in the cluster. Calls for owned gateways, and for targets that are not stored
 * gateways (probe sockets), stay local. Failures come back as the same `GatewayError` classes; an
 * owner that does not answer within the call's timeout plus 5 s is a `GatewayTimeoutError`, even
 * in an uninterruptible region (docs/architecture.md "Cluster").
 */
export const ForwardingGatewayClientLive = Layer.effect(
  GatewayClient,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const local = yield* LocalGatewayClient
    const ownership = yield* GatewayOwnership
    const repo = yield* GatewayRepo
    const client = yield* Effect.flatMap(Sharding.Sharding, (sharding) => sharding.makeClient(GatewayEntity))
    // Stored gateway ids seen so far (a gateway id never becomes a probe's).
    const stored = new Set<string>()
    const isStored = (id: string) =>
      stored.has(id)
        ? Effect.succeed(true)
        : !UUID.test(id)
          ? Effect.succeed(false)
          : repo.get(id).pipe(
              Effect.map((row) => {
                if (Option.isSome(row)) stored.add(id)
                return Option.isSome(row)
              }),
              Effect.orElseSucceed(() => false)
            )
    const remote = (gatewayId: string, op: "call" | "connect" | "forget", method: string, params: unknown, timeoutMs: number) =>
      client(gatewayId)
        .Call({ op, method, params, ...(op === "call" ? { timeoutMs } : {}) })
        .pipe(
          // The wait for the owner is interruptible, so the timeout holds in an uninterruptible
          // region too (an `agents.create` run to usable, a config batch's flush), as a local
          // call's does: without an owner the engine retries the send for ever (docs/architecture.md §11).
          Effect.interruptible,
          Effect.timeoutFail({ duration: timeoutMs + FORWARD_MARGIN_MS, onTimeout: () => new GatewayTimeoutError({ method, timeoutMs: timeoutMs + FORWARD_MARGIN_MS }) }),
          Effect.catchAll((error): Effect.Effect<never, GatewayError> => {
            if (error._tag === "RemoteFailure") return Effect.fail(rebuild(error as RemoteFailure) as GatewayError)
            if (error._tag === "GatewayTimeoutError") return Effect.fail(error)
            return Effect.fail(
              new GatewayConnectionError({ reason: "unreachable", message: `the runner that owns gateway ${gatewayId} did not take the call (${error._tag})`, retryable: true })
            )
          })
        )
    const forwarded = (gatewayId: string) => (ownership.owns(gatewayId) ? Effect.succeed(false) : isStored(gatewayId))
    return GatewayClient.of({
      ...local,
      // Only the owner's socket hears the gateway's events: elsewhere the revision is unknown.
      configRevision: (gatewayId) => (ownership.owns(gatewayId) ? local.configRevision(gatewayId) : undefined),
      call: (target, method, params, options) =>
        Effect.flatMap(forwarded(target.id), (forward) =>
          forward
            ? (remote(target.id, "call", method, params, options?.timeoutMs ?? config.gatewayCallTimeoutMs) as Effect.Effect<MethodResult<typeof method>, GatewayError>)
            : local.call(target, method, params, options)
        ),
      connect: (target) =>
        Effect.flatMap(forwarded(target.id), (forward) =>
          forward
            ? (remote(target.id, "connect", "connect", {}, 15_000) as Effect.Effect<GatewayHello, GatewayConnectionError>).pipe(
                Effect.catchAll((error) =>
                  error._tag === "GatewayConnectionError" || error._tag === "GatewayPairingRequired"
                    ? Effect.fail(error)
                    : Effect.fail(new GatewayConnectionError({ reason: "unreachable", message: "the owner runner could not connect", retryable: true }))
                )
              )
            : local.connect(target)
        ),
      forget: (gatewayId) =>
        Effect.zipRight(
          local.forget(gatewayId),
          Effect.flatMap(forwarded(gatewayId), (forward) =>
            forward
              ? remote(gatewayId, "forget", "forget", {}, 5_000).pipe(
                  // The owner's in-flight applies learn of the retarget only from this: tried 3 times.
                  Effect.retry(FORGET_RETRY),
                  Effect.catchAll((error) =>
                    Effect.logWarning("gateway client: the owner runner did not take a forget; its socket to the old target stays until its next call with the new one", { gatewayId, error: error._tag })
                  )
                )
              : Effect.void
          )
        )
    })
  })
)
