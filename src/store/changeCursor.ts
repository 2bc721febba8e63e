/**
 * The agent change stream's cursor (docs/architecture.md §8.1, migration 0014): a change written
 * by transaction `xid` at `rank` within it is numbered `xid << 16 | rank`. Transaction ids are
 * not handed out in commit order, so a reader publishes only below the frontier, where every
 * transaction of this database has ended. No lock: writers never wait for each other to number their changes.
 */

/** Changes one transaction may write (the ranks 0 … 65,535). */
export const RANKS_PER_TRANSACTION = 65_536

/** The cursor of a change written by the current transaction at `rank` (SQL; `rank` an SQL expression). */
export const changeCursorSql = (rank: string) => `(pg_current_xact_id()::text::bigint << 16) | ${rank}`

/**
 * The frontier (SQL, one scalar; `agent_changes_frontier()`, migration 0022): the lowest id among
 * the transactions this statement's snapshot sees in progress, leaving out those known to run in
 * another database, else the snapshot's `xmax`; as a cursor (`<< 16`). Every transaction of this
 * database with a smaller id ended before the snapshot, so the statement sees its changes and
 * nothing can commit below it any more; a long transaction in another database holds nothing
 * back (docs/architecture.md §8.1).
 */
export const FRONTIER_SQL = "agent_changes_frontier()"

/**
 * An agent's liveness change (a liveness event, `agent.heartbeat` or a `gateway.*` signal, that
 * left its state as it was): not a transition, but a change the stream pushes, labelled with its
 * event type. Only each agent's newest is kept (`agent_beats`).
 */
export interface NewBeat {
  readonly agentId: string
  /** The event that made it: `agent.heartbeat`, `gateway.run.started`, … */
  readonly eventType: string
  readonly gatewayId: string
  readonly boardId: string | null
  /** The snapshot version it was saved with. */
  readonly version: number
  readonly at: Date
  /** Its place among the changes of its transaction, below `RANKS_PER_TRANSACTION`. */
  readonly rank: number
}
