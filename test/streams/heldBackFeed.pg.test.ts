import { Chunk, Duration, Effect, Fiber, Stream } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { AgentChangeFeed, makeAgentChangeFeedLive, STREAM_READER_APPLICATION } from "../../src/streams/AgentChangeFeed.ts"
import { feedHarness } from "./feedHarness.ts"

/**
 * A change held back by an older open transaction (docs/architecture.md §8.1) is read again at
 * the next notification, not only when the held-back delay runs out. The delay here is an hour,
 * so only the notification can deliver it within the test's time.
 */
describe("the change feed after a held-back read (docs/architecture.md §8.1)", () => {
  const { h, agent } = feedHarness(makeAgentChangeFeedLive({ heldBackDelay: () => Duration.hours(1) }))

  it("a change held back by an open transaction comes at the next notification once that transaction ended, in cursor order", async () => {
    const { step } = await agent()
    const received = h.runtime.runFork(Effect.flatMap(AgentChangeFeed, (feed) => Stream.runCollect(Stream.take(feed.changes({}, undefined), 2))))
    while ((await h.runtime.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))) < 1) await new Promise((resolve) => setTimeout(resolve, 10))
    // An older transaction of this database with an id: it holds the frontier below step 1.
    const holder = new pg.Client({ connectionString: h.db.url })
    await holder.connect()
    try {
      await holder.query("begin")
      await holder.query("select pg_current_xact_id()")
      // Committed and notified, but above the frontier: the feed's read of it is held back.
      const { rows } = await h.client.query<{ at: Date }>("select clock_timestamp() as at")
      await step(1)
      // The reader has read since (its statement began after step 1 was under way, and ended).
      await expect
        .poll(async () => (await h.client.query("select 1 from pg_stat_activity where application_name = $1 and datname = current_database() and state = 'idle' and query_start > $2", [STREAM_READER_APPLICATION, rows[0]!.at])).rowCount)
        .toBeGreaterThan(0)
      await holder.query("commit")
    } finally {
      await holder.end()
    }
    // The holder ended without a notification; the next commit's notification brings both.
    await step(2)
    const changes = Chunk.toReadonlyArray(await h.runtime.runPromise(Fiber.join(received)))
    expect(changes.map((change) => change.transition.eventType)).toEqual(["step.1", "step.2"])
    expect(changes[0]!.cursor).toBeLessThan(changes[1]!.cursor)
  })
})
