import { Effect, Layer, Schedule } from "effect"
import { GatewayClient } from "../gateway/GatewayClient.ts"
import { PROBE_ID_PREFIX } from "./probeGateway.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"

/**
 * Closes the sockets of gateways that no longer exist, once a minute. Without it a deleted
 * gateway's socket would stay open and keep reconnecting with its token; handlers never touch
 * the gateway client, so the cleanup lives here. Probe sockets (unsaved targets) close themselves.
 */
export const GatewayJanitorLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const client = yield* GatewayClient
    const repo = yield* GatewayRepo
    const sweep = Effect.gen(function* () {
      const known = new Set((yield* repo.list).map((gateway) => gateway.id))
      const stale = (yield* client.connected).filter((id) => !known.has(id) && !id.startsWith(PROBE_ID_PREFIX))
      yield* Effect.forEach(stale, (id) => client.forget(id), { discard: true })
    }).pipe(Effect.catchAll((error) => Effect.logWarning("gateway janitor: could not list gateways", error)))
    yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced("1 minute")))
  })
)
