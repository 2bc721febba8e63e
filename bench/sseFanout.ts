/**
 * CPU of the agent stream's fan-out, this checkout (B) against another (A, e.g. /work/main):
 * `npx tsx bench/sseFanout.ts A_DIR [--clients N] [--changes N] [--rounds N]`.
 *
 * No database and no sockets: each checkout's in-memory feed (`makeAgentChangeFeedTest`) and SSE
 * body (`sseBody`, then `Stream.encodeText`, as `eventStreamResponse` sends it) are loaded in this
 * one process; `--clients` streams subscribe, `--changes` changes are published in bursts of 20
 * (as the feed's reads hand them over) and every client consumes every frame. Prints, per round
 * (A and B in alternating order), the process CPU (user + system, `process.cpuUsage`) per change
 * delivered to one client, and the median B/A ratio: robust on a busy machine where wall-clock is not.
 */
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Fiber, Stream } from "effect"
import { flag, percentile } from "./common.ts"

const HERE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** A change as the stream frames it (fields of the agent view). */
const change = (cursor: number): unknown => {
  const at = new Date()
  return {
    cursor,
    transition: { id: String(cursor), agentId: "7b0c0d4e-0000-4000-8000-000000000001", gatewayId: "g", boardId: null, version: String(cursor), fromState: "online", toState: "online", eventType: "agent.heartbeat", errorTag: null, at },
    agent: {
      id: "7b0c0d4e-0000-4000-8000-000000000001", gatewayId: "g", boardId: null, name: "agent", role: "worker", gatewayAgentId: "mc-1", sessionKey: "agent:mc-1:main", status: "online", statePath: "online",
      lastSeenAt: at, lastError: null, offlineReason: null, heartbeatConfig: {}, identityProfile: null, identityTemplate: null, soulTemplate: null, liveness: null, machineVersion: "1", version: String(cursor), createdAt: at, updatedAt: at, snapshot: {}
    }
  }
}

/** One checkout's feed and body; answers the CPU ms per change per client for one run. */
const runOnce = async (root: string, clients: number, changes: number) => {
  const feedModule = (await import(path.join(root, "src/streams/AgentChangeFeed.ts"))) as typeof import("../src/streams/AgentChangeFeed.ts")
  const { sseBody } = (await import(path.join(root, "src/streams/http/sseBody.ts"))) as typeof import("../src/streams/http/sseBody.ts")
  const { PING_EVERY } = (await import(path.join(root, "src/streams/sse.ts"))) as typeof import("../src/streams/sse.ts")
  const test = feedModule.makeAgentChangeFeedTest()
  return Effect.runPromise(
    Effect.gen(function* () {
      const feed = yield* feedModule.AgentChangeFeed
      let delivered = 0
      const fibers = yield* Effect.forEach(Array.from({ length: clients }), () =>
        sseBody(feed.changes({}, undefined), PING_EVERY).pipe(
          Stream.encodeText,
          Stream.runForEach(() => Effect.sync(() => void delivered++)),
          Effect.fork
        )
      )
      while ((yield* feed.subscribers) < clients) yield* Effect.sleep("1 millis")
      const from = process.cpuUsage()
      for (let cursor = 1; cursor <= changes; cursor++) {
        test.publish(change(cursor) as never)
        if (cursor % 20 === 0) yield* Effect.sleep("0 millis")
      }
      // The retry hint and every change, for each client.
      while (delivered < clients * (changes + 1)) yield* Effect.sleep("1 millis")
      const used = process.cpuUsage(from)
      yield* feed.close
      yield* Effect.forEach(fibers, Fiber.await)
      return (used.user + used.system) / 1_000 / (clients * changes)
    }).pipe(Effect.provide(test.layer))
  )
}

export const sseFanout = async (baseRoot: string) => {
  const clients = flag("--clients", 50)
  const changes = flag("--changes", 4_000)
  const rounds = flag("--rounds", 6)
  // Warm-up (JIT) on both.
  await runOnce(baseRoot, clients, 500)
  await runOnce(HERE_ROOT, clients, 500)
  const ratios: number[] = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["A", "B"] : ["B", "A"]
    const figures: Record<string, number> = {}
    for (const name of order) figures[name] = await runOnce(name === "A" ? baseRoot : HERE_ROOT, clients, changes)
    ratios.push(figures["B"]! / figures["A"]!)
    console.log(`  round ${round + 1}: A ${(1_000 * figures["A"]!).toFixed(1)} µs, B ${(1_000 * figures["B"]!).toFixed(1)} µs CPU per change per client; B/A ${ratios.at(-1)!.toFixed(3)}`)
  }
  console.log(`sseFanout: ${clients} clients × ${changes} changes, ${rounds} rounds: B/A CPU median ${percentile(ratios, 50).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2]
  if (base === undefined || base.startsWith("--")) throw new Error("usage: sseFanout.ts BASE_CHECKOUT_DIR [--clients N] [--changes N] [--rounds N]")
  await sseFanout(path.resolve(base))
}
