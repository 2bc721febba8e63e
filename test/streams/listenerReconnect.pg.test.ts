import { Effect, Fiber, Stream } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { AGENT_CHANGES_CHANNEL } from "../../src/store/TransitionRepo.ts"
import { AgentChangeFeed, AgentChangeFeedLive, STREAM_READER_APPLICATION } from "../../src/streams/AgentChangeFeed.ts"
import { LISTENER_APPLICATION } from "../../src/streams/pgListener.ts"
import { MACHINE_PG } from "../support/database.ts"
import { feedHarness } from "./feedHarness.ts"

/**
 * What commits while the feed's listener is down brings no notification; the read after the
 * LISTEN is begun again is exact (docs/architecture.md §8.1). Here the cheap bound would not
 * serve: a transaction of another database, older than the commit, holds the server's `xmin`
 * below it, and nothing was notified yet, so that bound (`xmin << 16`) would pass the notified
 * floor and stop short of the commit, leaving it for a notification that never comes.
 */
describe("the change feed after its listener reconnects (docs/architecture.md §8.1)", () => {
  const { h, agent } = feedHarness(AgentChangeFeedLive, { gateListener: true })

  const listeners = async () =>
    (await h.client.query("select 1 from pg_stat_activity where application_name = $1 and datname = current_database()", [LISTENER_APPLICATION])).rowCount
  /** Whether the feed's reader has read changes (not only the frontier) in a statement begun after `since` and ended. */
  const readSince = async (since: Date) =>
    (
      await h.client.query(
        "select 1 from pg_stat_activity where application_name = $1 and datname = current_database() and state = 'idle' and query like '%materialized%' and query_start > $2",
        [STREAM_READER_APPLICATION, since]
      )
    ).rowCount

  /** A client of the feed: `received` lists the event types of the changes it gets, in order. */
  const subscribe = () => {
    const received: Array<string> = []
    const client = h.runtime.runFork(
      Effect.flatMap(AgentChangeFeed, (feed) => Stream.runForEach(feed.changes({}, undefined), (change) => Effect.sync(() => void received.push(change.transition.eventType))))
    )
    return { received, client }
  }
  /** Until the client is subscribed and the listener is in place. */
  const subscribed = async () => {
    await expect.poll(() => h.runtime.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))).toBe(1)
    await expect.poll(listeners).toBe(1)
  }
  /** Opens a transaction on `holder` that holds a transaction id (older than what commits next). */
  const holdXid = async (holder: pg.Client) => {
    await holder.connect()
    await holder.query("begin")
    await holder.query("select pg_current_xact_id()")
  }
  /** Closes the gate and ends the listener's connection: the next one waits at the gate. */
  const dropListener = async (gate: { readonly close: () => void }) => {
    gate.close()
    await h.client.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()", [LISTENER_APPLICATION])
    await expect.poll(listeners).toBe(0)
  }

  it("a commit made while the listener was down, above the xmin another database's older transaction holds, comes once after it reconnects", async () => {
    const gate = h.gate!
    const { step } = await agent()
    const { received, client } = subscribe()
    const holder = new pg.Client({ connectionString: MACHINE_PG })
    try {
      await subscribed()
      // The LISTEN at start was read with nobody subscribed; a read with the client subscribed
      // (brought by an unreadable notice) makes the reads cheap again until the next LISTEN.
      const { rows } = await h.client.query<{ at: Date }>("select clock_timestamp() as at")
      await h.client.query("select pg_notify($1, 'unreadable')", [AGENT_CHANGES_CHANNEL])
      await expect.poll(() => readSince(rows[0]!.at)).toBeGreaterThan(0)
      // Older than what follows, in another database: the exact frontier leaves it out, xmin does not.
      await holdXid(holder)

      await dropListener(gate)
      // Committed unheard: no listener, and the one coming back waits at the gate.
      await step(1)
      await expect.poll(gate.waiting).toBe(1)
      expect(received).toEqual([])
      gate.open()

      await expect.poll(() => [...received], { timeout: 5_000 }).toEqual(["step.1"])
      // Heard again, and step 1 only once.
      await step(2)
      await expect.poll(() => [...received]).toEqual(["step.1", "step.2"])
    } finally {
      await holder.end()
      await h.runtime.runPromise(Fiber.interrupt(client))
    }
  })

  it("a commit made while the listener was down, held back by an older transaction of this database, comes once that transaction ended, with no further commit", async () => {
    const gate = h.gate!
    const { step } = await agent()
    const { received, client } = subscribe()
    const holder = new pg.Client({ connectionString: h.db.url })
    try {
      await subscribed()
      // Older than step 1, in this database: the frontier, exact or not, stays below step 1 while it is open.
      await holdXid(holder)

      await dropListener(gate)
      await step(1)
      await expect.poll(gate.waiting).toBe(1)
      const { rows } = await h.client.query<{ at: Date }>("select clock_timestamp() as at")
      gate.open()
      // The read after the LISTEN is held back by the holder: nothing yet.
      await expect.poll(() => readSince(rows[0]!.at)).toBeGreaterThan(0)
      expect(received).toEqual([])
      // Its end brings no notification; the feed reads again until the frontier passes step 1.
      await holder.query("commit")
      await expect.poll(() => [...received], { timeout: 5_000 }).toEqual(["step.1"])
      await step(2)
      await expect.poll(() => [...received]).toEqual(["step.1", "step.2"])
    } finally {
      await holder.end()
      await h.runtime.runPromise(Fiber.interrupt(client))
    }
  })
})
