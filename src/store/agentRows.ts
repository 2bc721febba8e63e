import type { AgentProjection } from "../agents/agentProjection.ts"

/**
 * The agents table's row shapes and its creation-order cursor, as the repository reads and
 * writes them (`AgentRepo` re-exports them).
 */

/** Who an agent is, fixed at creation (docs/operations.md §6.1). */
export interface AgentKeys {
  readonly id: string
  readonly gatewayId: string
  readonly boardId: string | null
  readonly role: string
  readonly gatewayAgentId: string
  readonly sessionKey: string
}

/** The agents read model, as stored (camelCase); `snapshot` is the persisted actor snapshot. */
export interface AgentRow extends AgentKeys, AgentProjection {
  readonly machineVersion: string
  readonly version: string
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface NewAgent extends AgentKeys {
  readonly projection: AgentProjection
  readonly snapshot: unknown
  readonly machineVersion: string
}

export interface StoredSnapshot {
  readonly id: string
  readonly snapshot: unknown
  readonly machineVersion: string
  readonly version: string
}

/**
 * A position in creation order, `(created_at, id)`: `<microseconds since the epoch>.<id>`
 * (exact; a JavaScript Date would drop the microseconds and repeat rows).
 */
export type LiveCursor = string

/** A stored snapshot with the cursor of its row. */
export interface StoredSnapshotAt extends StoredSnapshot {
  readonly cursor: LiveCursor
}

/** A keyset page of live agents in creation order; `next` continues after its last item (null at the end). */
export interface AgentKeysetPage {
  readonly items: ReadonlyArray<AgentRow>
  readonly next: LiveCursor | null
}

/** Whether `value` has the shape of a `LiveCursor`. */
export const isLiveCursor = (value: string): boolean => /^\d{1,20}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)

export interface AgentPage {
  readonly items: ReadonlyArray<AgentRow>
  readonly total: number
}
