import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"
import type { AgentRow } from "./AgentRepo.ts"

/** The Postgres channel a committed write announces its transitions on (payload: `AgentChangeNotice`). */
export const AGENT_CHANGES_CHANNEL = "switchyard_agent_changes"

/** One transition of one agent, as the snapshot writer records it. */
export interface NewTransition {
  readonly gatewayId: string
  readonly boardId: string | null
  /** The agent's snapshot version this transition produced. */
  readonly version: number
  /** Full state path before (`provisioning.awaiting`); null for a new agent's first state. */
  readonly fromState: string | null
  readonly toState: string
  /** The type of the event that caused it (`agent.heartbeat`, `apply.failed`, `xstate.init`…). */
  readonly eventType: string
  /** The `_tag` of the typed error the event carried (`*.failed` events), else null. */
  readonly errorTag: string | null
  readonly at: Date
}

/** A stored transition; `id` is the global cursor. Bigints arrive as strings. */
export interface TransitionRow extends Omit<NewTransition, "version"> {
  readonly id: string
  readonly agentId: string
  readonly version: string
}

/** A transition with its agent's current read model and snapshot (what the change stream sends). */
export interface TransitionWithAgent {
  readonly transition: TransitionRow
  readonly agent: AgentRow & { readonly snapshot: unknown }
}

/** What `pg_notify` carries (well under Postgres' 8000-byte payload limit). */
export interface AgentChangeNotice {
  readonly agent_id: string
  readonly version: number
  /** The highest cursor the write committed. */
  readonly cursor: number
}

export interface TransitionFilter {
  readonly boardId?: string | undefined
  readonly gatewayId?: string | undefined
}

export interface TransitionRepoShape {
  /**
   * Inserts one agent's transitions and announces them with `pg_notify`. Call it inside the
   * transaction that saves the snapshot: it takes a transaction-scoped advisory lock first, so
   * cursors are drawn in commit order across every service instance (a bigserial alone is
   * drawn at insert time, and a reader that saw cursor 101 before 100 committed would skip
   * 100 for ever). The lock is held only for the insert, the notify and the commit; NOTIFY
   * serialises commits itself anyway (it holds a global lock while committing). Inserts
   * nothing when the agent's row is gone. Answers the highest cursor drawn, if any.
   */
  readonly record: (agentId: string, transitions: ReadonlyArray<NewTransition>) => Effect.Effect<Option.Option<number>, SqlError>
  /** Deletes the agent's transitions beyond the newest `keep` (index range on (agent_id, id)). */
  readonly prune: (agentId: string, keep: number) => Effect.Effect<void, SqlError>
  /** The agent's transitions, newest first, a page at a time; `total` counts them all. */
  readonly forAgent: (
    agentId: string,
    page: { readonly limit: number; readonly offset: number }
  ) => Effect.Effect<{ readonly items: ReadonlyArray<TransitionRow>; readonly total: number }, SqlError>
  /** Up to `limit` transitions after `cursor` matching `filter`, oldest first, each with its agent's current row. */
  readonly after: (cursor: number, filter: TransitionFilter, limit: number) => Effect.Effect<ReadonlyArray<TransitionWithAgent>, SqlError>
  /** The highest cursor committed so far (0 when there is none). */
  readonly latestCursor: Effect.Effect<number, SqlError>
}

/** The transition history (`agent_transitions`) and the commit-ordered cursor of the agent change stream. */
export class TransitionRepo extends Context.Tag("switchyard/TransitionRepo")<TransitionRepo, TransitionRepoShape>() {}

const TRANSITION_COLUMNS = "id, agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at"

// The agent columns of AgentRepo's read model (never the token hashes), prefixed for the join.
const AGENT_COLUMNS = `a.id, a.gateway_id, a.board_id, a.name, a.role, a.gateway_agent_id, a.session_key, a.status, a.state_path,
  a.last_seen_at, a.last_error, a.offline_reason, a.heartbeat_config, a.identity_profile, a.identity_template, a.soul_template,
  a.machine_version, a.version, a.created_at, a.updated_at, a.snapshot`

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

const split = ({ tId, tAgentId, tGatewayId, tBoardId, tVersion, tFromState, tToState, tEventType, tErrorTag, tAt, ...agent }: JoinedRow): TransitionWithAgent => ({
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

export const TransitionRepoLive = Layer.effect(
  TransitionRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return TransitionRepo.of({
      record: (agentId, transitions) =>
        Effect.gen(function* () {
          if (transitions.length === 0) return Option.none()
          const rows = transitions.map((t) => ({
            gateway_id: t.gatewayId,
            board_id: t.boardId,
            version: t.version,
            from_state: t.fromState,
            to_state: t.toState,
            event_type: t.eventType,
            error_tag: t.errorTag,
            at: t.at.toISOString()
          }))
          yield* sql`select pg_advisory_xact_lock(hashtext('switchyard:agent-transitions'))`
          // Joined with the agent's row: an agent whose row is gone records nothing (rather than
          // failing its writer for ever on the foreign key).
          const inserted = yield* sql<{ id: string }>`
            insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at)
            select a.id, v.gateway_id, v.board_id, v.version, v.from_state, v.to_state, v.event_type, v.error_tag, v.at
            from agents a,
              jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(gateway_id uuid, board_id uuid, version bigint, from_state text,
                to_state text, event_type text, error_tag text, at timestamptz)
            where a.id = ${agentId}
            order by v.version
            returning id`
          if (inserted.length === 0) return Option.none()
          const cursor = Math.max(...inserted.map((row) => Number(row.id)))
          const notice: AgentChangeNotice = { agent_id: agentId, version: transitions[transitions.length - 1]!.version, cursor }
          // `sql.notify` is broken in @effect/sql-pg 0.53 (stack.md); NOTIFY is delivered at commit.
          yield* sql`select pg_notify(${AGENT_CHANGES_CHANNEL}, ${JSON.stringify(notice)})`
          return Option.some(cursor)
        }),
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
      after: (cursor, filter, limit) => {
        const where = sql.and([
          sql`t.id > ${cursor}`,
          ...(filter.boardId === undefined ? [] : [sql`t.board_id = ${filter.boardId}`]),
          ...(filter.gatewayId === undefined ? [] : [sql`t.gateway_id = ${filter.gatewayId}`])
        ])
        return sql<JoinedRow>`
          select ${sql.unsafe(JOINED_TRANSITION)}, ${sql.unsafe(AGENT_COLUMNS)}
          from agent_transitions t join agents a on a.id = t.agent_id
          where ${where} order by t.id limit ${limit}`.pipe(Effect.map((rows) => rows.map(split)))
      },
      latestCursor: sql<{ cursor: string | null }>`select max(id) as cursor from agent_transitions`.pipe(Effect.map((rows) => Number(rows[0]?.cursor ?? 0)))
    })
  })
)
