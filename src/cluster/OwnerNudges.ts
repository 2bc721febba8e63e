import { Context, Effect, Layer } from "effect"

/** What a nudge asks the owner of a gateway to look at again: its template-sync jobs, or its deletion. */
export type NudgeTopic = "sync" | "deleting"

export interface OwnerNudgesShape {
  /**
   * Registers what this runner does when a nudge of `topic` arrives for a gateway it owns (one
   * handler per topic; a later one replaces it). The handler must be quick: it runs in the
   * gateway entity's request.
   */
  readonly on: (topic: NudgeTopic, handler: (gatewayId: string) => Effect.Effect<void>) => void
  /** Runs the handler of `topic` for `gatewayId` here (a nudge that arrived, or one for a gateway owned here); none registered: nothing. */
  readonly deliver: (topic: NudgeTopic, gatewayId: string) => Effect.Effect<void>
}

/**
 * Per-gateway work that another runner's request creates (a template-sync job queued, a gateway
 * marked deleting) is started on the gateway's owner by a nudge (the gateway entity's `Nudge`,
 * `nudgeOwner` in `gatewayOnOwner.ts`) rather than by the owner polling the database every
 * second; each context keeps a slow poll for a nudge that was lost (docs/operations.md §7.1).
 * The contexts register here; the cluster never imports them.
 */
export class OwnerNudges extends Context.Tag("switchyard/OwnerNudges")<OwnerNudges, OwnerNudgesShape>() {}

export const OwnerNudgesLive = Layer.sync(OwnerNudges, (): OwnerNudgesShape => {
  const handlers = new Map<NudgeTopic, (gatewayId: string) => Effect.Effect<void>>()
  return {
    on: (topic, handler) => void handlers.set(topic, handler),
    deliver: (topic, gatewayId) => Effect.suspend(() => handlers.get(topic)?.(gatewayId) ?? Effect.void)
  }
})
