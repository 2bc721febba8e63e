import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"
import { agentViewColumns, type AgentRow } from "./AgentRepo.ts"

/** The Postgres channel each committed transition is announced on (payload: `AgentChangeNotice`; sent by migration 0007's trigger). */
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

/** What `pg_notify` carries, one per transition (~100 bytes, far under Postgres' 8000-byte limit). */
export interface AgentChangeNotice {
  readonly agent_id: string
  readonly version: number
  readonly cursor: number
}

export interface TransitionFilter {
  readonly boardId?: string | undefined
  readonly gatewayId?: string | undefined
}

export interface TransitionRepoShape {
  /**
   * Inserts one agent's transitions; call it in the transaction that saves their snapshot. At
   * that transaction's commit, a trigger numbers them with the global cursor, in commit order
   * across every service instance, and announces each on `AGENT_CHANGES_CHANNEL` with
   * `pg_notify` (migration 0007 says why the cursor is drawn then). Inserts nothing when the
   * agent's row is gone.
   */
  readonly record: (agentId: string, transitions: ReadonlyArray<NewTransition>) => Effect.Effect<void, SqlError>
  /**
   * `record` for the transitions of many agents at once, in one statement (none for an empty
   * list): each agent's in version order; an agent whose row is gone records nothing.
   */
  readonly recordMany: (transitions: ReadonlyArray<NewTransition & { readonly agentId: string }>) => Effect.Effect<void, SqlError>
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

/** The transition history (`agent_transitions`), numbered by the commit-ordered cursor of the agent change stream. */
export class TransitionRepo extends Context.Tag("switchyard/TransitionRepo")<TransitionRepo, TransitionRepoShape>() {}

const TRANSITION_COLUMNS = "id, agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at"

// The agent columns of AgentRepo's read model (never the token hashes), prefixed for the join.
// What a stream event shows of the agent: never its token hash.
const AGENT_COLUMNS = `${agentViewColumns("a")}, a.snapshot`

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
    const recordMany: TransitionRepoShape["recordMany"] = (transitions) => {
      if (transitions.length === 0) return Effect.void
      const rows = transitions.map((t) => ({
        agent_id: t.agentId,
        gateway_id: t.gatewayId,
        board_id: t.boardId,
        version: t.version,
        from_state: t.fromState,
        to_state: t.toState,
        event_type: t.eventType,
        error_tag: t.errorTag,
        at: t.at.toISOString()
      }))
      // Joined with the agents' rows: an agent whose row is gone records nothing (rather than
      // failing every write of its batch on the foreign key). Each agent's in version order,
      // which the commit trigger keeps when it numbers them.
      return sql`
        insert into agent_transitions (agent_id, gateway_id, board_id, version, from_state, to_state, event_type, error_tag, at)
        select a.id, v.gateway_id, v.board_id, v.version, v.from_state, v.to_state, v.event_type, v.error_tag, v.at
        from agents a
          join jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(agent_id uuid, gateway_id uuid, board_id uuid, version bigint,
            from_state text, to_state text, event_type text, error_tag text, at timestamptz) on v.agent_id = a.id
        order by v.agent_id, v.version`.pipe(Effect.asVoid)
    }
    return TransitionRepo.of({
      record: (agentId, transitions) => recordMany(transitions.map((transition) => ({ ...transition, agentId }))),
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
