import { randomUUID } from "node:crypto"
import { Effect, Option } from "effect"
import type { IdentityProfile } from "../../machines/agent/agentTypes.ts"
import { DEFAULT_HEARTBEAT } from "../agents/defaultHeartbeat.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { AgentRepo } from "../store/AgentRepo.ts"
import { isUniqueViolation } from "../store/sqlErrors.ts"

/** The gateway-main agent's identity (docs/operations.md §6.1). */
export const MAIN_IDENTITY_PROFILE: IdentityProfile = {
  role: "Gateway Agent",
  communication_style: "direct, concise, practical",
  emoji: ":compass:"
}


/** "<gateway name> Gateway Agent" (docs/operations.md §6.1). */
export const mainAgentName = (gatewayName: string): string => `${gatewayName} Gateway Agent`

/**
 * Ensures the gateway has its one gateway-main agent (board null, gateway agent id
 * `mc-gateway-<gateway id>`, main templates; docs/operations.md §6.1). A
 * missing one is created and its actor starts provisioning; an existing one is left as it is.
 * Concurrent callers converge on one agent: the unique index on (gateway, gateway agent id)
 * turns the loser's insert into a read.
 * Output: the main agent's id and whether this call created it. Errors: SqlError,
 * AgentPersistTimeout.
 */
export const ensureMainAgent = Effect.fn("Gateways.ensureMainAgent")(function* (gateway: { readonly id: string; readonly name: string }) {
  const repo = yield* AgentRepo
  const existing = yield* repo.mainOf(gateway.id)
  if (Option.isSome(existing)) return { agentId: existing.value.id, created: false }
  const system = yield* AgentSystem
  const agentId = randomUUID()
  // Names are unique per gateway; a worker that already took the usual one must not block the main agent.
  const preferred = mainAgentName(gateway.name)
  const name = (yield* repo.nameTaken({ name: preferred, gatewayId: gateway.id })) ? `${preferred} (${gateway.id.slice(0, 8)})` : preferred
  const created = yield* Effect.either(
    system.create({
      agentId,
      gatewayId: gateway.id,
      boardId: null,
      role: "main",
      spec: { name, heartbeat: DEFAULT_HEARTBEAT, identityProfile: MAIN_IDENTITY_PROFILE, identityTemplate: null, soulTemplate: null }
    }).pipe(
      // Only a capped create can find its board full; a main agent has no board.
      Effect.catchTag("BoardFull", (full) => Effect.die(full))
    )
  )
  if (created._tag === "Right") return { agentId, created: true }
  const error = created.left
  if (error._tag === "SqlError" && isUniqueViolation(error)) {
    const winner = yield* repo.mainOf(gateway.id)
    if (Option.isSome(winner)) return { agentId: winner.value.id, created: false }
  }
  return yield* error
})
