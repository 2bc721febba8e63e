import type { AgentProjection } from "../agents/agentProjection.ts"

/** One agent's snapshot to save, with its read-model projection. */
export interface SnapshotSave {
  readonly id: string
  readonly projection: AgentProjection
  readonly snapshot: unknown
  readonly version: number
}

/** The record type of `saveMany`'s rows (`jsonb_to_recordset`): a full row, or a row `derived` from its snapshot. */
export const SAVE_ROW = `id uuid, role text, board_id uuid, gateway_agent_id text, session_key text, name text, status text, state_path text,
  last_seen_at timestamptz, last_error jsonb, offline_reason text, token_hash text, heartbeat_config jsonb, identity_profile jsonb,
  identity_template text, soul_template text, snapshot jsonb, version bigint, liveness jsonb, derived boolean, silence_limit_ms numeric`

/**
 * Each read-model column a `derived` row takes from its snapshot's context (the members
 * `projectSnapshot` copies; `derivable` checks them), as a jsonb path: `text` columns read as
 * text, `json` ones with JSON null as SQL null (what a full row's null stores). A column added
 * here and not to `derivable`, or the other way round, fails test/store/saveRow.test.ts.
 */
export const FROM_CONTEXT: ReadonlyArray<readonly [column: string, path: string, kind: "text" | "uuid" | "json"]> = [
  ["role", "role", "text"],
  ["board_id", "boardId", "uuid"],
  ["gateway_agent_id", "gatewayAgentId", "text"],
  ["session_key", "sessionKey", "text"],
  ["name", "spec,name", "text"],
  ["last_error", "lastError", "json"],
  ["offline_reason", "offlineReason", "text"],
  ["token_hash", "tokenHash", "text"],
  ["heartbeat_config", "spec,heartbeat", "json"],
  ["identity_profile", "spec,identityProfile", "json"],
  ["identity_template", "spec,identityTemplate", "text"],
  ["soul_template", "spec,soulTemplate", "text"]
]

const contextValue = (path: string, kind: "text" | "uuid" | "json") =>
  kind === "json" ? `nullif(r.snapshot #> '{context,${path}}', 'null')` : kind === "uuid" ? `(r.snapshot #>> '{context,${path}}')::uuid` : `r.snapshot #>> '{context,${path}}'`

/** The rows as the update reads them (`v`): a derived row's read-model columns taken from its snapshot. */
export const SAVE_VALUES = [
  "r.id, r.status, r.state_path, r.last_seen_at, r.snapshot, r.version",
  ...FROM_CONTEXT.map(([column, path, kind]) => `case when r.derived then ${contextValue(path, kind)} else r.${column} end as ${column}`),
  "case when r.derived then r.snapshot #> '{context,liveness}' || jsonb_build_object('silenceLimitMs', r.silence_limit_ms) else r.liveness end as liveness"
].join(",\n  ")

type Members = Readonly<Record<string, unknown>>
const membersOf = (value: unknown): Members | undefined => (typeof value === "object" && value !== null ? (value as Members) : undefined)

/**
 * Whether every read-model column of `p` is its snapshot's own context member (the same value or
 * object), its liveness the context's plus `silenceLimitMs` alone: then the row can take them
 * from the snapshot, which is sent anyway (docs/architecture.md §6.5). False for anything else (a
 * projection not made from this snapshot), which is saved as a full row.
 */
export const derivable = (p: AgentProjection, snapshot: unknown): boolean => {
  const context = membersOf(membersOf(snapshot)?.["context"])
  const spec = membersOf(context?.["spec"])
  const liveness = membersOf(context?.["liveness"])
  if (context === undefined || spec === undefined || liveness === undefined || p.liveness == null) return false
  if (
    p.role !== context["role"] || p.boardId !== context["boardId"] || p.gatewayAgentId !== context["gatewayAgentId"] || p.sessionKey !== context["sessionKey"] ||
    p.lastError !== context["lastError"] || p.offlineReason !== context["offlineReason"] || p.tokenHash !== context["tokenHash"] ||
    p.name !== spec["name"] || p.heartbeatConfig !== spec["heartbeat"] || p.identityProfile !== spec["identityProfile"] ||
    p.identityTemplate !== spec["identityTemplate"] || p.soulTemplate !== spec["soulTemplate"]
  ) {
    return false
  }
  if ("silenceLimitMs" in liveness) return false
  const projected = p.liveness as unknown as Members
  let members = 0
  for (const key in projected) {
    if (key === "silenceLimitMs") continue
    if (projected[key] !== liveness[key] || !(key in liveness)) return false
    members++
  }
  for (const _ in liveness) members--
  return members === 0 && typeof p.liveness.silenceLimitMs === "number"
}

/** A save as a row of the statement: only its snapshot and the columns not in it when the rest derive from it (`derivable`). */
export const saveRow = ({ id, projection: p, snapshot, version }: SnapshotSave) =>
  p.liveness != null && derivable(p, snapshot)
    ? { id, status: p.status, state_path: p.statePath, last_seen_at: p.lastSeenAt, snapshot, version, derived: true, silence_limit_ms: p.liveness.silenceLimitMs }
    : {
        id,
        role: p.role,
        board_id: p.boardId,
        gateway_agent_id: p.gatewayAgentId,
        session_key: p.sessionKey,
        name: p.name,
        status: p.status,
        state_path: p.statePath,
        last_seen_at: p.lastSeenAt,
        last_error: p.lastError,
        offline_reason: p.offlineReason,
        token_hash: p.tokenHash,
        heartbeat_config: p.heartbeatConfig,
        identity_profile: p.identityProfile,
        identity_template: p.identityTemplate,
        soul_template: p.soulTemplate,
        snapshot,
        version,
        liveness: p.liveness ?? null,
        derived: false
      }
