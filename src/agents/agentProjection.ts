import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { HeartbeatConfig, IdentityProfile, StepError } from "../../machines/agent/agentTypes.ts"
import { livenessOf, silenceLimitMs } from "../../machines/agent/liveness.ts"
import type { LivenessState } from "../../machines/agent/livenessTypes.ts"

/**
 * What the gateway's signals say of an agent (the `liveness` jsonb column; docs/operations.md
 * §7): the machine's liveness plus the silence limit in force (ms).
 */
export interface AgentLiveness extends LivenessState {
  readonly silenceLimitMs: number
}

/** The read-model columns derived from an agent snapshot; the snapshot is the single source. */
export interface AgentProjection {
  /** Top-level state: provisioning | online | updating | offline | deleting | deleted. */
  readonly status: string
  /** Full state path, e.g. `provisioning.retrying`. */
  readonly statePath: string
  /** Identity columns: fixed at creation except through a main⇄board conversion. */
  readonly role: string
  readonly boardId: string | null
  readonly gatewayAgentId: string
  readonly sessionKey: string
  readonly name: string
  readonly lastSeenAt: Date | null
  readonly lastError: StepError | null
  readonly offlineReason: string | null
  readonly tokenHash: string | null
  readonly heartbeatConfig: HeartbeatConfig
  readonly identityProfile: IdentityProfile | null
  readonly identityTemplate: string | null
  readonly soulTemplate: string | null
  /** Optional for writers that predate it (then stored as null). */
  readonly liveness?: AgentLiveness | null | undefined
}

/** `{ provisioning: "awaiting" }` → `provisioning.awaiting`. */
export const statePathOf = (value: unknown): string => {
  if (typeof value === "string") return value
  if (typeof value === "object" && value !== null) {
    const [key, child] = Object.entries(value)[0] ?? ["unknown", undefined]
    return child === undefined ? key : `${key}.${statePathOf(child)}`
  }
  return "unknown"
}

export const projectSnapshot = (snapshot: Pick<AgentSnapshot, "value" | "context">): AgentProjection => {
  const { context } = snapshot
  const statePath = statePathOf(snapshot.value)
  return {
    status: statePath.split(".")[0] ?? statePath,
    statePath,
    role: context.role,
    boardId: context.boardId,
    gatewayAgentId: context.gatewayAgentId,
    sessionKey: context.sessionKey,
    name: context.spec.name,
    lastSeenAt: context.lastSeenAt === null ? null : new Date(context.lastSeenAt),
    lastError: context.lastError,
    offlineReason: context.offlineReason,
    tokenHash: context.tokenHash,
    heartbeatConfig: context.spec.heartbeat,
    identityProfile: context.spec.identityProfile,
    identityTemplate: context.spec.identityTemplate,
    soulTemplate: context.spec.soulTemplate,
    liveness: { ...livenessOf(context), silenceLimitMs: silenceLimitMs(context) }
  }
}
