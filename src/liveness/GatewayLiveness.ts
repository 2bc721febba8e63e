import { Context, Effect, Layer } from "effect"

/** What one gateway's watcher knows of it (docs/operations.md §8). Instants are epoch ms. */
export interface GatewayLivenessStatus {
  readonly gatewayId: string
  /** Null until the first probe answered or failed. */
  readonly reachable: boolean | null
  readonly since: number | null
  readonly serverVersion: string | null
  /** Signals this gateway cannot give (a method or event its `hello-ok` lacks), each with what it costs. */
  readonly degraded: ReadonlyArray<string>
  /** Gateway agents with our id prefix (`mc-`, `lead-`) that no agent of ours is. */
  readonly orphans: ReadonlyArray<string>
  /** Our agents missing from its `agents.list` at the last reconciliation. */
  readonly missing: ReadonlyArray<string>
  readonly lastReconciledAt: number | null
  /** LLM heartbeat turns per agent-hour over the last hour (the heartbeat budget), null before any agent. */
  readonly heartbeatTurnsPerAgentHour: number | null
}

export interface GatewayLivenessShape {
  /** The watcher's view of a gateway, if one watches it in this process. */
  readonly get: (gatewayId: string) => Effect.Effect<GatewayLivenessStatus | undefined>
  /** Merges `change` into the gateway's status (created on first use). */
  readonly update: (gatewayId: string, change: Partial<Omit<GatewayLivenessStatus, "gatewayId">>) => Effect.Effect<void>
  readonly forget: (gatewayId: string) => Effect.Effect<void>
}

/** The per-gateway liveness status the watchers keep (in memory, per process). */
export class GatewayLiveness extends Context.Tag("switchyard/GatewayLiveness")<GatewayLiveness, GatewayLivenessShape>() {}

const empty = (gatewayId: string): GatewayLivenessStatus => ({
  gatewayId,
  reachable: null,
  since: null,
  serverVersion: null,
  degraded: [],
  orphans: [],
  missing: [],
  lastReconciledAt: null,
  heartbeatTurnsPerAgentHour: null
})

export const GatewayLivenessLive = Layer.sync(GatewayLiveness, () => {
  const statuses = new Map<string, GatewayLivenessStatus>()
  return GatewayLiveness.of({
    get: (gatewayId) => Effect.sync(() => statuses.get(gatewayId)),
    update: (gatewayId, change) => Effect.sync(() => void statuses.set(gatewayId, { ...(statuses.get(gatewayId) ?? empty(gatewayId)), ...change })),
    forget: (gatewayId) => Effect.sync(() => void statuses.delete(gatewayId))
  })
})
