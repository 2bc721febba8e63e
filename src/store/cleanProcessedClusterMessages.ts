import { MachineId, Snowflake } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"

/** How long a processed engine message and its replies are kept (ms). */
export const CLUSTER_MESSAGE_RETENTION_MS = 24 * 60 * 60 * 1000
/** Rows deleted per statement, so no pass holds a long lock. */
const BATCH = 5_000

/**
 * One pass of the engine's message janitor: deletes the processed rows of `cluster_messages`
 * whose id (a Snowflake: ms since 2025-01-01 << 22, `@effect/cluster` Snowflake) is older than
 * `retentionMs` (default 1 day), and the replies of those requests, in batches of 5,000. An
 * unprocessed message, and the replies of a request that still has one, are never deleted: the
 * engine may still deliver them. Every runner runs it (docs/operations.md §7.4); passes on two
 * runners at once delete disjoint or already-gone rows. Returns the counts deleted; fails with
 * `SqlError`.
 */
export const cleanProcessedClusterMessages = (retentionMs = CLUSTER_MESSAGE_RETENTION_MS) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = yield* Clock.currentTimeMillis
    const cutoff = Snowflake.make({ timestamp: now - retentionMs, machineId: MachineId.make(0), sequence: 0 }).toString()
    let messages = 0
    let replies = 0
    for (;;) {
      const deleted = yield* sql<{ requestId: string }>`
        delete from cluster_messages where id in (
          select id from cluster_messages where processed and id < ${cutoff}::bigint limit ${BATCH}
        ) returning request_id::text`
      messages += deleted.length
      const requests = [...new Set(deleted.map((row) => row.requestId))]
      if (requests.length > 0) {
        const gone = yield* sql`
          delete from cluster_replies r where r.request_id in ${sql.in(requests)}
            and not exists (select 1 from cluster_messages m where m.request_id = r.request_id and not m.processed)
          returning r.id`
        replies += gone.length
      }
      if (deleted.length < BATCH) break
    }
    return { messages, replies }
  })
