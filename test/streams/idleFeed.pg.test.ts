import { Chunk, Effect, Fiber, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { AgentChangeFeed, AgentChangeFeedLive, STREAM_READER_APPLICATION } from "../../src/streams/AgentChangeFeed.ts"
import { feedHarness } from "./feedHarness.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("the change feed with nobody listening (docs/architecture.md §8.1)", () => {
  const { h, agent } = feedHarness(AgentChangeFeedLive)

  /** The statements the feed's reader has sent so far: the latest start among its connections (and how many there are). */
  const readerQueries = async () =>
    (
      await h.client.query<{ connections: string; latest: Date | null }>(
        "select count(*) as connections, max(query_start) as latest from pg_stat_activity where application_name = $1 and datname = current_database()",
        [STREAM_READER_APPLICATION]
      )
    ).rows[0]!

  it("a commit costs the feed no statement while nobody listens; the first client to join gets what commits after it joined, nothing from before", async () => {
    const { step } = await agent()
    const before = await readerQueries()
    expect(Number(before.connections)).toBeGreaterThan(0)
    for (let n = 1; n <= 3; n++) await step(n)
    await sleep(300)
    expect(await readerQueries()).toEqual(before)

    const received = h.runtime.runFork(Effect.flatMap(AgentChangeFeed, (feed) => Stream.runCollect(Stream.take(feed.changes({}, undefined), 1))))
    while ((await h.runtime.runPromise(Effect.flatMap(AgentChangeFeed, (feed) => feed.subscribers))) < 1) await sleep(10)
    await step(4)
    const changes = Chunk.toReadonlyArray(await h.runtime.runPromise(Fiber.join(received)))
    expect(changes.map((change) => change.transition.eventType)).toEqual(["step.4"])
  })
})
