import type { LivenessEvent, LivenessState } from "./livenessTypes.ts"

/**
 * Types of the agent machine. Plain data only: every value here is JSON, because the machine's
 * snapshot is persisted after every transition. No secret ever appears here (the agent token
 * lives only inside the `applyAgent` invoke; the context keeps its hash).
 */

/** Heartbeat cadence pushed to the gateway (`agents.entries.<id>.heartbeat`, docs/gateway-protocol.md §0.5). */
export interface HeartbeatConfig {
  readonly every: string
  readonly target: string
}

export type IdentityProfile = Readonly<Record<string, string | ReadonlyArray<string> | null>>

/** What the operator asked for. `agent.update` merges `changes` into it. */
export interface AgentSpec {
  readonly name: string
  readonly heartbeat: HeartbeatConfig
  readonly identityProfile: IdentityProfile | null
  readonly identityTemplate: string | null
  readonly soulTemplate: string | null
}

/** Time limits, in ms. Refreshed from config when an actor is restored. */
export interface AgentPolicy {
  /** Silence after the last heartbeat before online → offline. */
  readonly offlineAfterMs: number
  /** How long an agent has to check in after a wake. */
  readonly checkinTimeoutMs: number
  /** Wakes without a check-in before the agent goes offline. */
  readonly maxWakeAttempts: number
  /** Attempts of a failing gateway step before it stops in `failed`. */
  readonly maxAttempts: number
  /** First delay between attempts; doubles per attempt, capped at 60 s. */
  readonly retryBaseMs: number
  /**
   * Liveness limits (docs/operations.md §8); absent in older snapshots, then the defaults of
   * machines/agent/liveness.ts. Silence limit = max(`offlineAfterMs`, factor × effective
   * `everyMs` + grace).
   */
  readonly offlineFactor?: number | undefined
  readonly offlineGraceMs?: number | undefined
  /** How long the gateway may be unreachable before its agents go offline. */
  readonly gatewayLostAfterMs?: number | undefined
  /** Failed runs in a row before an agent goes offline ("runs failing"). */
  readonly maxFailedRuns?: number | undefined
}

export type AgentRole = "worker" | "lead" | "main"

/** Fixed at creation: the gateway-side identity (docs/architecture.md §5.1). */
export interface AgentIdentity {
  readonly agentId: string
  readonly gatewayId: string
  readonly boardId: string | null
  readonly role: AgentRole
  readonly gatewayAgentId: string
  readonly sessionKey: string
}

export type LifecycleAction = "provision" | "update"

/**
 * An agent taken over from its gateway instead of created (`POST /gateways/{id}/agents/adopt`,
 * docs/operations.md §6.2): its first provision skips `agents.create` and, unless `keepFiles` is
 * false, writes only AGENTS.md. Absent for created agents and in older snapshots.
 */
export interface Adoption {
  readonly keepFiles: boolean
}

/** The options of the apply currently wanted (provision, PATCH, retry, template sync). */
export interface ApplyRequest {
  readonly action: LifecycleAction
  readonly resetSession: boolean
  readonly forceBootstrap: boolean
  readonly rotateToken: boolean
  /**
   * Whether a wake follows the apply. Template sync writes files without waking (docs/operations.md
   * §6.8, docs/architecture.md §5.4); the agent then returns to the liveness its heartbeats show.
   * Absent in snapshots from before it existed, which means true.
   */
  readonly wake?: boolean | undefined
  /** Rewrite USER.md and MEMORY.md even after the workspace was seeded (template sync `overwrite`). */
  readonly overwrite?: boolean | undefined
  /**
   * The template sync job that sent this update, if one did: a resumed job tells its own update
   * from another one that reached the generation it stored (docs/architecture.md §9.2). Absent
   * otherwise, and in snapshots from before it existed.
   */
  readonly syncJob?: string | undefined
}

/**
 * The template sync job whose update the agent received last, and the generation that update
 * started (docs/architecture.md §9.2).
 */
export interface SyncedBy {
  readonly job: string
  readonly generation: number
}

/** A typed failure of an invoked program, as data (its `_tag` is the Effect error's tag). */
export interface StepError {
  readonly tag: string
  readonly message: string
  readonly transient: boolean
  readonly retryAfterMs?: number | undefined
  readonly step: "apply" | "wake" | "remove"
  readonly at: number
}

/** A gateway agent this agent used to be (before a main⇄board conversion), removed once the new one is applied. */
export interface RetiredIdentity {
  readonly gatewayAgentId: string
  readonly sessionKey: string
}

/** What a main⇄board conversion changes (`PATCH /agents/{id}` with `is_gateway_main`). */
export type ConvertedIdentity = Pick<AgentIdentity, "role" | "boardId" | "gatewayAgentId" | "sessionKey">

export interface AgentContext extends AgentIdentity {
  readonly spec: AgentSpec
  readonly policy: AgentPolicy
  readonly request: ApplyRequest
  /** Bumped on every apply cycle; part of idempotency keys (wake messages). */
  readonly generation: number
  /** Attempts of the current step, reset when it succeeds. */
  readonly attempts: number
  readonly wakeAttempts: number
  readonly lastError: StepError | null
  /** Epoch ms of the last heartbeat. */
  readonly lastSeenAt: number | null
  /** Free-form status the agent reported with its last heartbeat. */
  readonly reportedStatus: string | null
  readonly tokenHash: string | null
  /** How the last apply got its token (recovered, minted, or minted after a mismatch). */
  readonly tokenSource: TokenSource | null
  /** Set by the first successful apply: from then on the agent's own files (USER.md, MEMORY.md) stand. */
  readonly workspaceSeeded: boolean
  /** Epoch ms at which the current waiter fires (retry, check-in or offline), if any. */
  readonly deadline: number | null
  /**
   * Epoch ms past which runs no longer extend the check-in deadline of the current wake
   * (machines/agent/checkin.ts). Absent in older snapshots: the deadline is the limit.
   */
  readonly checkinLimit?: number | null | undefined
  readonly offlineReason: string | null
  /** Set by a conversion until the apply under the new identity has removed the old one. Absent in older snapshots. */
  readonly retired?: RetiredIdentity | null | undefined
  /** What the gateway's own signals say (docs/operations.md §8). Absent in older snapshots: no signal yet. */
  readonly liveness?: LivenessState | undefined
  readonly adoption?: Adoption | undefined
  /**
   * The last template sync update the agent received (see `SyncedBy`). Kept through later updates
   * and retries (unlike `request.syncJob`), so a resumed job tells an update it sent from one it
   * only stored (§9.2). Absent until a sync's update, and in older snapshots (a resumed job then
   * sends its update once more).
   */
  readonly syncedBy?: SyncedBy | undefined
}

export interface AgentInput extends AgentIdentity {
  readonly spec: AgentSpec
  readonly policy: AgentPolicy
  readonly adoption?: Adoption | undefined
}

export type AgentUpdateChanges = Partial<AgentSpec>

/** Events from outside. Every event carries `at`, the epoch ms when it was accepted. */
export type AgentExternalEvent =
  | { readonly type: "agent.heartbeat"; readonly at: number; readonly status?: string | undefined }
  | {
      readonly type: "agent.update"
      readonly at: number
      readonly changes: AgentUpdateChanges
      readonly force?: boolean | undefined
      readonly options?: Partial<Omit<ApplyRequest, "action">> | undefined
    }
  /**
   * `force` leaves a delete whose gateway cleanup failed (`deleting.failed`) without cleaning up:
   * the operator's call when the gateway is gone for good. Elsewhere it is a plain delete.
   */
  | { readonly type: "agent.delete"; readonly at: number; readonly force?: boolean | undefined }
  /** Main⇄board conversion: the agent takes a new gateway identity and the old one is removed. */
  | { readonly type: "agent.convert"; readonly at: number; readonly identity: ConvertedIdentity }
  | { readonly type: "agent.retry"; readonly at: number }
  | LivenessEvent

/** Events the invoked actors send back (see src/agents/effectActor.ts). */
export type AgentInternalEvent =
  | { readonly type: "apply.done"; readonly at: number; readonly output: ApplyOutput }
  | { readonly type: "apply.failed"; readonly at: number; readonly error: StepError }
  | { readonly type: "wake.done"; readonly at: number; readonly output: null }
  | { readonly type: "wake.failed"; readonly at: number; readonly error: StepError }
  | { readonly type: "remove.done"; readonly at: number; readonly output: null }
  | { readonly type: "remove.failed"; readonly at: number; readonly error: StepError }
  | { readonly type: "deadline.reached"; readonly at: number }
  /** The service's time limits, sent to a restored actor when they changed since its snapshot. */
  | { readonly type: "system.policy"; readonly at: number; readonly policy: AgentPolicy }

export type AgentEvent = AgentExternalEvent | AgentInternalEvent

export interface ApplyInput extends AgentIdentity {
  readonly spec: AgentSpec
  readonly request: ApplyRequest
  readonly generation: number
  /** Whether an earlier apply already wrote the workspace (then agent-editable files are kept). */
  readonly workspaceSeeded: boolean
  /** The hash of the token the workspace should hold, to recover it when `rotateToken` is false. */
  readonly tokenHash: string | null
  /** The gateway agent to remove once this apply has succeeded (after a conversion). */
  readonly retired: RetiredIdentity | null
  /** Set for an adopted agent (see `Adoption`); absent or null for a created one. */
  readonly adoption?: Adoption | null | undefined
}

/**
 * Where the token written by an apply came from: freshly `minted` (rotation asked, or nothing to
 * keep), `recovered` from the workspace and matching the stored hash, or minted because the one
 * in the workspace did not match (`mismatch`) or was `missing`.
 */
export type TokenSource = "minted" | "recovered" | "mismatch" | "missing"

export interface ApplyOutput {
  /** sha256 hex of the token written into the workspace. */
  readonly tokenHash: string
  readonly tokenSource: TokenSource
  /**
   * The heartbeat the gateway reports for the agent after the apply's `config.patch` (read back
   * from `health`), or null when it could not be read.
   */
  readonly effectiveHeartbeat?: { readonly enabled: boolean; readonly every: string; readonly everyMs: number | null } | null | undefined
}

export interface WakeInput extends AgentIdentity {
  readonly name: string
  readonly action: LifecycleAction
  /** Makes the wake's idempotency key: one chat message per generation and attempt. */
  readonly generation: number
  readonly attempt: number
}

export type RemoveInput = AgentIdentity
