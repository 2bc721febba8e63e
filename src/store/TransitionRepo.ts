import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"
import { agentViewColumns, agentViewSnapshot, type AgentRow } from "./AgentRepo.ts"
import { changeCursorSql, FRONTIER_SQL } from "./changeCursor.ts"
import { type NewTransition, type RankedTransition, transitionRow } from "./transitionRow.ts"

/**
 * The Postgres channel every transaction that wrote changes is announced on, once (payload: the
 * writing transaction's id; sent by migration 0014's statement triggers).
 */
export const AGENT_CHANGES_CHANNEL = "switchyard_agent_changes"

export type { NewTransition, RankedTransition } from "./transitionRow.ts"

/** A stored transition; `id` is the global cursor. Bigints arrive as strings. */
export interface TransitionRow extends Omit<NewTransition, "version"> {
  readonly id: string
  readonly agentId: string
  readonly version: string
}

/**
 * A transition with its agent's current read model and the lifecycle part of its snapshot
 * (`context`: generation, attempts, wake attempts, deadline, reported status, token source):
 * what the change stream sends.
 */
export interface TransitionWithAgent {
  readonly transition: TransitionRow
  readonly agent: AgentRow & { readonly snapshot: unknown }
}

/** Changes after a cursor, and the frontier they were read below (see `changesAfter`). */
export interface ChangesRead {
  readonly changes: ReadonlyArray<TransitionWithAgent>
  /** Every change below this cursor has committed, or never will; nothing below it appears later. */
  readonly frontier: number
}

export interface TransitionFilter {
  readonly boardId?: string | undefined
  readonly gatewayId?: string | undefined
}

export interface TransitionRepoShape {
  /**
   * Inserts transitions of many agents, in one statement (none for an empty list); call it in
   * the transaction that saves their snapshots. Each is numbered `xid << 16 | rank` (the ranks
   * unique within the transaction, each agent's rising with its versions) and the transaction
   * is announced on `AGENT_CHANGES_CHANNEL` at commit (migration 0014). An agent whose row is
   * gone records nothing.
   */
  readonly recordMany: (transitions: ReadonlyArray<RankedTransition>) => Effect.Effect<void, SqlError>
  /** Deletes the agent's transitions beyond the newest `keep` (index range on (agent_id, id)). */
  readonly prune: (agentId: string, keep: number) => Effect.Effect<void, SqlError>
  /** The agent's transitions, newest first, a page at a time; `total` counts them all. */
  readonly forAgent: (
    agentId: string,
    page: { readonly limit: number; readonly offset: number }
  ) => Effect.Effect<{ readonly items: ReadonlyArray<TransitionRow>; readonly total: number }, SqlError>
  /**
   * Up to `limit` changes after `cursor` and below the frontier, matching `filter`, oldest
   * first, each with its agent's current row: transitions, and each agent's newest liveness
   * change (beat) as a transition from its state to itself, labelled with the event that made it
   * (`agent.heartbeat`, `gateway.run.started`, …). One statement. Given `notified` (a cursor:
   * the highest floor of a transaction announced as committed; null when one was unreadable),
   * the frontier may be the snapshot's `xmin << 16` whenever that passes it (never above the
   * exact frontier, and no catalog join; migration 0024, docs/architecture.md §8.1).
   */
  readonly changesAfter: (
    cursor: number,
    filter: TransitionFilter,
    limit: number,
    notified?: number | null
  ) => Effect.Effect<ChangesRead, SqlError>
  /** `changesAfter`'s changes alone. */
  readonly after: (cursor: number, filter: TransitionFilter, limit: number) => Effect.Effect<ReadonlyArray<TransitionWithAgent>, SqlError>
  /** The frontier less one: every change at or below it has committed or never will (no table read). */
  readonly latestCursor: Effect.Effect<number, SqlError>
}

/** The transition history (`agent_transitions`) and the newest liveness change per agent (`agent_beats`), numbered by the cursor of the agent change stream. */
export class TransitionRepo extends Context.Tag("switchyard/TransitionRepo")<TransitionRepo, TransitionRepoShape>() {}

const TRANSITION_COLUMNS = "id, agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at"

// The agent columns of AgentRepo's read model (never the token hashes), prefixed for the join.
// What a stream event shows of the agent: never its token hash; of its snapshot, only the
// lifecycle fields the agent view shows (a whole snapshot would be read and parsed per change).
const AGENT_COLUMNS = `${agentViewColumns("a")}, ${agentViewSnapshot("a")}`

const JOINED_TRANSITION = `t.id as t_id, t.agent_id as t_agent_id, t.gateway_id as t_gateway_id, t.board_id as t_board_id,
  t.version as t_version, t.from_state as t_from_state, t.to_state as t_to_state, t.event_type as t_event_type,
  t.error_tag as t_error_tag, t.at as t_at`

type JoinedRow = AgentRow & {
  readonly snapshot: unknown
  readonly tId: string
  readonly tAgentId: string
  readonly tGatewayId: string
  readonly tBoardId: string | null
  readonly tVersion: string
  readonly tFromState: string | null
  readonly tToState: string
  readonly tEventType: string
  readonly tErrorTag: string | null
  readonly tAt: Date
}

// One copy of the row per change (its agent part): the frontier column is left out here, not by a copy of its own (docs/architecture.md §6.5).
const split = ({ frontier: _, tId, tAgentId, tGatewayId, tBoardId, tVersion, tFromState, tToState, tEventType, tErrorTag, tAt, ...agent }: JoinedRow & { readonly frontier?: string }): TransitionWithAgent => ({
  transition: {
    id: tId,
    agentId: tAgentId,
    gatewayId: tGatewayId,
    boardId: tBoardId,
    version: tVersion,
    fromState: tFromState,
    toState: tToState,
    eventType: tEventType,
    errorTag: tErrorTag,
    at: tAt
  },
  agent
})

/** A liveness change as a joined row: the agent's state to itself, by the event that made the beat (migration 0018). */
const JOINED_BEAT = `b.cursor as t_id, b.agent_id as t_agent_id, b.gateway_id as t_gateway_id, b.board_id as t_board_id,
  b.version as t_version, a.state_path as t_from_state, a.state_path as t_to_state, b.event_type as t_event_type,
  null::text as t_error_tag, b.at as t_at`

export const TransitionRepoLive = Layer.effect(
  TransitionRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const recordMany: TransitionRepoShape["recordMany"] = (transitions) => {
      if (transitions.length === 0) return Effect.void
      const rows = transitions.map(transitionRow)
      // Joined with the agents' rows: an agent whose row is gone records nothing (rather than
      // failing every write of its batch on the foreign key).
      return sql`
        insert into agent_transitions (id, agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at)
        select ${sql.unsafe(changeCursorSql("v.rank"))}, a.id, v.gateway_id, v.board_id, v.version, v.from_state, v.to_state, v.event_type, v.error_tag, v.at
        from agents a
          join jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(agent_id uuid, gateway_id uuid, board_id uuid, version bigint,
            from_state text, to_state text, event_type text, error_tag text, at timestamptz, rank bigint) on v.agent_id = a.id`.pipe(Effect.asVoid)
    }
    const changesAfter: TransitionRepoShape["changesAfter"] = (cursor, filter, limit, notified) => {
      const scope = (alias: string) => [
        ...(filter.boardId === undefined ? [] : [sql`${sql.unsafe(alias)}.board_id = ${filter.boardId}`]),
        ...(filter.gatewayId === undefined ? [] : [sql`${sql.unsafe(alias)}.gateway_id = ${filter.gatewayId}`])
      ]
      // The frontier once, first (with a notified floor, migration 0024's cheaper bound when it
      // passes the floor); then each table's index range below it, merged.
      const frontier = notified === undefined ? sql.unsafe(FRONTIER_SQL) : sql`agent_changes_frontier(${notified}::bigint)`
      return sql<{ frontier: string } & Partial<JoinedRow>>`
        with f as materialized (select ${frontier} as frontier)
        select f.frontier, c.* from f left join lateral (
          select * from (
            (select ${sql.unsafe(JOINED_TRANSITION)}, ${sql.unsafe(AGENT_COLUMNS)}
              from agent_transitions t join agents a on a.id = t.agent_id
              where ${sql.and([sql`t.id > ${cursor}`, sql`t.id < f.frontier`, ...scope("t")])} order by t.id limit ${limit})
            union all
            (select ${sql.unsafe(JOINED_BEAT)}, ${sql.unsafe(AGENT_COLUMNS)}
              from agent_beats b join agents a on a.id = b.agent_id
              where ${sql.and([sql`b.cursor > ${cursor}`, sql`b.cursor < f.frontier`, ...scope("b")])} order by b.cursor limit ${limit})
          ) as u order by u.t_id limit ${limit}
        ) as c on true`.pipe(
        Effect.map((rows) => ({
          frontier: Number(rows[0]?.frontier ?? 0),
          changes: rows.flatMap((row) => (row.tId === null || row.tId === undefined ? [] : [split(row as JoinedRow)]))
        }))
      )
    }
    return TransitionRepo.of({
      recordMany,
      prune: (agentId, keep) =>
        sql`
          delete from agent_transitions
          where agent_id = ${agentId}
            and id <= (select id from agent_transitions where agent_id = ${agentId} order by id desc offset ${keep} limit 1)`.pipe(Effect.asVoid),
      forAgent: (agentId, { limit, offset }) =>
        Effect.all({
          items: sql<TransitionRow>`select ${sql.unsafe(TRANSITION_COLUMNS)} from agent_transitions where agent_id = ${agentId} order by id desc limit ${limit} offset ${offset}`,
          total: sql<{ count: string }>`select count(*) from agent_transitions where agent_id = ${agentId}`.pipe(Effect.map((rows) => Number(rows[0]?.count ?? 0)))
        }),
      changesAfter,
      after: (cursor, filter, limit) => Effect.map(changesAfter(cursor, filter, limit), (read) => read.changes),
      latestCursor: sql<{ frontier: string }>`select ${sql.unsafe(FRONTIER_SQL)} as frontier`.pipe(Effect.map((rows) => Number(rows[0]?.frontier ?? 1) - 1))
    })
  })
)
