import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Context, Duration, Effect, Layer, Queue, type Stream } from "effect"
import { namedSqlClient } from "../database/Database.ts"
import { AGENT_CHANGES_CHANNEL, TransitionRepo, TransitionRepoLive, type TransitionWithAgent } from "../store/TransitionRepo.ts"
import type { AgentChange, AgentChangeFeedShape } from "./AgentChange.ts"
import { PAGE, agentChanges, matches, toChange, type ChangeHistory, type JoinHub } from "./agentChanges.ts"
import type { AgentStreamClosed, AgentStreamOverflow } from "./AgentStreamErrors.ts"
import { makeChangeHub, type ChangeHub } from "./changeHub.ts"
import { listenerConnection, runPgListener } from "./pgListener.ts"

export type { AgentChange, AgentChangeFeedShape, AgentChangeFilter } from "./AgentChange.ts"

/**
 * Agent changes for push streams. Each instance holds ONE Postgres listener and one in-process
 * hub: a committed write announces itself with `pg_notify`, the instance reads the new rows
 * once and fans them out to all its stream clients, whichever instance made the change. No
 * client ever polls the database; a client only reads it to replay after a reconnect.
 */
export class AgentChangeFeed extends Context.Tag("switchyard/AgentChangeFeed")<AgentChangeFeed, AgentChangeFeedShape>() {}

export { CLIENT_BUFFER } from "./agentChanges.ts"

/** The feed over a hub fed in cursor order and the history it replays from; clients join through `join`. */
const feedOf = (hub: ChangeHub<AgentChange>, history: ChangeHistory, join?: JoinHub) =>
  AgentChangeFeed.of({ changes: agentChanges(hub, history, join), subscribers: Effect.sync(hub.size), close: Effect.sync(hub.close) })

/**
 * The lowest cursor a notice's transaction may have written (its id `<< 16`, migration 0014);
 * anything unreadable counts as new (a read too many is harmless).
 */
const noticeFloor = (payload: string): number => {
  const xid = Number(payload)
  return Number.isSafeInteger(xid) ? xid * 65_536 : Number.POSITIVE_INFINITY
}

/** While a notified transaction is not yet below the frontier, read again after this (or at the next notification): 2 ms doubling to 100 ms. */
export const heldBackDelay = (reads: number): Duration.Duration => Duration.millis(Math.min(100, 2 * 2 ** reads))

/** The connections the feed's reader reads new changes on (`pg_stat_activity.application_name`). */
export const STREAM_READER_APPLICATION = "switchyard-stream"

/**
 * The feed on Postgres: one listener connection (`runPgListener`) and one reader fiber, which on
 * each notification (or reconnect) reads the changes after the last it published and below the
 * frontier (given the highest notified floor, so the cheap bound serves when it passes it; §8.1), a page at a time, and hands each to every subscribed client; with no client it reads
 * nothing, and the first to join brings the position up to the frontier as it subscribes. A notified transaction
 * above the frontier (an older one has not ended yet) is read again after `heldBackDelay` or at
 * the next notification, whichever comes first, until the frontier passes it (docs/architecture.md
 * §8.1; `options.heldBackDelay` replaces the delay, for tests). The reader has a pool of its own
 * (`STREAM_READER_APPLICATION`; it uses one connection at a time), so a backlog of writes on the
 * service's pool never delays the stream; replays read on the service's pool. Fails to build
 * with SqlError when the frontier cannot be read at start.
 */
export const makeAgentChangeFeedLive = (options: { readonly heldBackDelay?: (reads: number) => Duration.Duration } = {}) =>
  Layer.scoped(
    AgentChangeFeed,
    Effect.gen(function* () {
      const heldBackWait = options.heldBackDelay ?? heldBackDelay
      const history = yield* TransitionRepo
      const repo = Context.get(yield* Layer.build(TransitionRepoLive.pipe(Layer.provide(namedSqlClient(STREAM_READER_APPLICATION)))), TransitionRepo)
      const pg = yield* PgClient.PgClient
      const hub = makeChangeHub<AgentChange>()
      // What committed before this is history (replayed on request); the feed publishes what follows.
      let published = yield* repo.latestCursor
      // The highest floor notified: a transaction that committed, whose changes are published once below the frontier.
      let notified = 0
      // Moments whose floor is unknown (an unreadable notice; a LISTEN begun, after which what
      // committed unheard is read): counted as they come, and a read takes the exact frontier until
      // one has succeeded since the last of them (a failed read does not forget one).
      let unknownNotices = 0
      let exactUpTo = 0
      let heldBack = 0
      // At most one pending read: notifications that arrive during a read are served by the next.
      const wake = yield* Queue.sliding<void>(1)
      // Set while nobody listened at a notification: `published` may be behind the frontier.
      let behind = false
      // A read and a client's joining never interleave (a joining client must not see a read
      // from a position older than its joining, nor miss one after it).
      const reading = yield* Effect.makeSemaphore(1)
      const catchUp = Effect.suspend(() =>
        behind ? Effect.map(repo.latestCursor, (latest) => void ((published = Math.max(published, latest)), (behind = false))) : Effect.void
      )
      /** A client joins once `published` is up to the frontier, in one step with its subscription. */
      const join: JoinHub = (subscribe) => reading.withPermits(1)(Effect.zipRight(catchUp, subscribe))
      // Answers whether a notified transaction was above the frontier (then read again shortly).
      const read = Effect.gen(function* () {
        // Nobody listens here: nothing to read, and no statement (a client that comes replays from
        // the history; the first to join brings `published` up to the frontier).
        if (hub.size() === 0) {
          behind = true
          return false
        }
        yield* catchUp
        // The floor passed to the read: below it, the cheap bound (the snapshot's xmin) serves as the
        // frontier once it passes every notified change (§8.1, migration 0024).
        const unknownSeen = unknownNotices
        const notifiedFloor = unknownSeen > exactUpTo ? null : notified
        for (;;) {
          const { changes, frontier } = yield* repo.changesAfter(published, {}, PAGE, notifiedFloor)
          for (const row of changes) {
            const change = toChange(row)
            hub.publish(change)
            published = change.cursor
          }
          if (changes.length < PAGE) {
            // Everything below the frontier is read: later reads start there.
            published = Math.max(published, frontier - 1)
            exactUpTo = Math.max(exactUpTo, unknownSeen)
            if (frontier > notified) {
              heldBack = 0
              return false
            }
            return true
          }
        }
      })
      // Whether the last read left a notified transaction above the frontier.
      let held = false
      // A committed transaction above the frontier is read again once older ones have ended: after
      // the held-back delay, or at the next notification if one comes first (under load the next
      // commit follows within milliseconds, long before a grown delay). The wait is outside the
      // read, so clients join meanwhile.
      const next = Effect.suspend(() => (held ? Effect.race(Effect.sleep(heldBackWait(heldBack++)), Queue.take(wake)) : Queue.take(wake)))
      yield* next.pipe(
        Effect.zipRight(reading.withPermits(1)(read)),
        Effect.map((heldNow) => void (held = heldNow)),
        // Whatever the failure, the reader must go on (a dead reader would silence every stream).
        Effect.catchAllCause((cause) =>
          Effect.logWarning("agent change feed: reading new transitions failed; retrying in 1 s", cause).pipe(
            Effect.zipRight(Effect.sync(() => void (held = false))),
            Effect.zipRight(Effect.sleep("1 second")),
            Effect.zipRight(Queue.offer(wake, undefined))
          )
        ),
        Effect.forever,
        Effect.forkScoped
      )
      yield* runPgListener(listenerConnection(pg.config), AGENT_CHANGES_CHANNEL, {
        // Also after a reconnect: whatever committed while the connection was down is read now, up
        // to the exact frontier (those commits' notices were never heard, so none would bring a later
        // read), and read again while the frontier is below any of them (an older transaction of
        // this database still open): they count as notified, up to the last id assigned before.
        onListening: (nextXid) => {
          if (Number.isSafeInteger(nextXid)) notified = Math.max(notified, (nextXid - 1) * 65_536)
          unknownNotices++
          Queue.unsafeOffer(wake, undefined)
        },
        onNotification: (payload) => {
          const floor = noticeFloor(payload)
          if (floor > published) {
            if (Number.isFinite(floor)) notified = Math.max(notified, floor)
            else unknownNotices++
            Queue.unsafeOffer(wake, undefined)
          }
        }
      }).pipe(Effect.forkScoped)
      return feedOf(hub, history, join)
    })
  )

/** The feed on Postgres with the held-back delay of docs/architecture.md §8.1 (see `makeAgentChangeFeedLive`). */
export const AgentChangeFeedLive = makeAgentChangeFeedLive()

/**
 * Ends the streams when the service stops. Build it after the HTTP server (so it is released
 * before the server, which otherwise waits for open streams for ever).
 */
export const AgentStreamsDrainLive = Layer.scopedDiscard(Effect.flatMap(AgentChangeFeed, (feed) => Effect.addFinalizer(() => feed.close)))

/**
 * A feed without Postgres for tests: `publish` stores a change in an in-memory history and
 * hands it to live subscribers, as a commit would. Changes must be published in cursor order.
 */
export const makeAgentChangeFeedTest = () => {
  const hub = makeChangeHub<AgentChange>()
  const stored: Array<AgentChange> = []
  const history: ChangeHistory = {
    after: (cursor, filter, limit) => Effect.sync(() => stored.filter((change) => change.cursor > cursor && matches(filter)(change)).slice(0, limit)),
    latestCursor: Effect.sync(() => stored.at(-1)?.cursor ?? 0)
  }
  return {
    layer: Layer.succeed(AgentChangeFeed, feedOf(hub, history)),
    publish: (change: AgentChange) => {
      stored.push(change)
      hub.publish(change)
    }
  }
}
