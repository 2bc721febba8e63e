import type { SqlError } from "@effect/sql/SqlError"
import { Chunk, Deferred, Effect, Option, Stream } from "effect"
import type { TransitionRepoShape, TransitionWithAgent } from "../store/TransitionRepo.ts"
import type { AgentChange, AgentChangeFeedShape, AgentChangeFilter } from "./AgentChange.ts"
import { AgentStreamClosed, AgentStreamOverflow } from "./AgentStreamErrors.ts"
import type { ChangeHub } from "./changeHub.ts"

/** Rows per read, for the replay and for the feed's reads after a notification. */
export const PAGE = 500

/** Changes a client may be behind before it is dropped (about 1.5 KB each: ~1.5 MB a client). */
export const CLIENT_BUFFER = 1_000

/** Where the replay reads history from. */
export type ChangeHistory = Pick<TransitionRepoShape, "after" | "latestCursor">

/** A stored transition as a change, its cursor a number (bigserial values stay far below 2^53). */
export const toChange = (row: TransitionWithAgent): AgentChange => ({ ...row, cursor: Number(row.transition.id) })

/** Whether a change is on the filter's board and gateway (where the agent was when it happened). */
export const matches = (filter: AgentChangeFilter) => (change: AgentChange) =>
  (filter.boardId === undefined || change.transition.boardId === filter.boardId) &&
  (filter.gatewayId === undefined || change.transition.gatewayId === filter.gatewayId)

/** Stored changes after `after`, a page at a time, until the history has no more. */
const replay = (history: ChangeHistory, filter: AgentChangeFilter, after: number) =>
  Stream.paginateChunkEffect(after, (cursor) =>
    history.after(cursor, filter, PAGE).pipe(
      Effect.map((rows) => {
        const changes = rows.map(toChange)
        const last = changes.at(-1)
        return [Chunk.unsafeFromArray(changes), rows.length < PAGE || last === undefined ? Option.none() : Option.some(last.cursor)] as const
      })
    )
  )

/**
 * How a client joins the hub: `subscribe` run as the feed requires (the Postgres feed brings its
 * read position up to date first, in one step with the subscription). By default, as it is.
 */
export type JoinHub = <A, R>(subscribe: Effect.Effect<A, never, R>) => Effect.Effect<A, SqlError, R>

/**
 * `AgentChangeFeed.changes` over a hub fed in cursor order and a history holding every committed
 * change: subscribe (through `join`), replay from the history, then the live queue, dropping what
 * the replay gave.
 */
export const agentChanges =
  (hub: ChangeHub<AgentChange>, history: ChangeHistory, join: JoinHub = (subscribe) => subscribe): AgentChangeFeedShape["changes"] =>
  (filter, after) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const subscription = yield* join(hub.subscribe(matches(filter), CLIENT_BUFFER))
        // A cursor from another database must not hide live changes below it.
        const from = after === undefined ? undefined : Math.min(after, yield* history.latestCursor)
        let last = from ?? 0
        const ended = Effect.flatMap(Deferred.await(subscription.ended), (reason): Effect.Effect<never, AgentStreamOverflow | AgentStreamClosed> =>
          reason === "overflow" ? Effect.fail(new AgentStreamOverflow({ capacity: CLIENT_BUFFER })) : Effect.fail(new AgentStreamClosed())
        )
        // Live: the queue, which the hub shuts down when it cuts the client off, then the reason.
        // No `interruptWhen` on the live part: it would fork a fiber per pull of every client
        // (the replay keeps it: a client cut off during a long replay stops at once).
        const live = Stream.concat(Stream.fromQueue(subscription.queue), Stream.fromEffect(ended))
        // Cursors are drawn in commit order, so a live change at or below the last replayed
        // cursor was visible to the replay: it is a duplicate.
        return Stream.concat(from === undefined ? Stream.empty : Stream.interruptWhen(replay(history, filter, from), ended), live).pipe(
          Stream.filter((change) => {
            if (change.cursor <= last) return false
            last = change.cursor
            return true
          })
        )
      })
    )
