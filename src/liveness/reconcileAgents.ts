import { Clock, Effect } from "effect"
import type { LivenessEvent } from "../../machines/agent/livenessTypes.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayLivenessShape } from "./GatewayLiveness.ts"
import { looksManaged } from "./gatewayRoster.ts"
import type { PresenceMarks } from "./PresenceMarks.ts"

export interface ReconcileInput {
  readonly gatewayId: string
  readonly target: GatewayTarget
  /** Our agents on the gateway: gateway agent id → agent id. */
  readonly roster: ReadonlyMap<string, string>
  readonly send: (agentId: string, event: LivenessEvent) => Effect.Effect<void>
  readonly registry: GatewayLivenessShape
  /** The watcher's marks of listed ids, reused round after round. */
  readonly present: PresenceMarks
}

const PROBE_TIMEOUT_MS = 10_000

/**
 * Compares the gateway's `agents.list` with our agents (docs/operations.md §8): an agent of ours
 * it lacks gets `gateway.agent.missing` (one that is back, `gateway.agent.present`); agents busy
 * with gateway work (provisioning, updating, deleting) are left to their lifecycle. A gateway
 * agent with our id prefix that none of ours is, is an orphan: logged once and listed in the
 * gateway's liveness status. Never fails: a failed listing is logged and skipped.
 */
export const reconcileAgents = (input: ReconcileInput) =>
  Effect.gen(function* () {
    const client = yield* GatewayClient
    const system = yield* AgentSystem
    const listed = yield* client.call(input.target, "agents.list", {}, { timeoutMs: PROBE_TIMEOUT_MS })
    const at = yield* Clock.currentTimeMillis
    const present = input.present
    present.mark(listed.agents)
    const missing: string[] = []
    // The old gateway agent of a conversion not yet applied is ours: its apply removes it (not an orphan to adopt).
    const retired = new Set<string>()
    for (const [gatewayAgentId, agentId] of input.roster) {
      const snapshot = system.snapshot(agentId)
      const old = snapshot?.context.retired?.gatewayAgentId
      if (old != null) retired.add(old)
      if (snapshot === undefined || snapshot.status !== "active" || snapshot.hasTag("busy")) continue
      const wasMissing = (snapshot.context.liveness?.missingSince ?? null) !== null
      if (!present.has(gatewayAgentId)) {
        missing.push(agentId)
        if (!wasMissing) yield* input.send(agentId, { type: "gateway.agent.missing", at, source: "agents.list" })
      } else if (wasMissing) {
        yield* input.send(agentId, { type: "gateway.agent.present", at, source: "agents.list" })
      }
    }
    const orphans: string[] = []
    for (const id of present.ids()) if (looksManaged(id) && !input.roster.has(id) && !retired.has(id)) orphans.push(id)
    orphans.sort()
    const known = new Set((yield* input.registry.get(input.gatewayId))?.orphans ?? [])
    const fresh = orphans.filter((id) => !known.has(id))
    if (fresh.length > 0) yield* Effect.logWarning(`liveness ${input.gatewayId}: gateway agents with our prefix that we do not know (orphans): ${fresh.join(", ")}`)
    if (missing.length > 0) yield* Effect.logWarning(`liveness ${input.gatewayId}: ${missing.length} of our agents missing from agents.list`)
    yield* input.registry.update(input.gatewayId, { orphans, missing, lastReconciledAt: at })
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`liveness ${input.gatewayId}: reconciling agents.list failed: ${error.message}`)))
