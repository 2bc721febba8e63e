import { randomUUID } from "node:crypto"
import { RunnerHealth, RunnerStorage, Sharding, ShardId } from "@effect/cluster"
import { Effect, Exit, Layer, ManagedRuntime, Option, Redacted, Scope } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Readiness } from "../../src/agents/AgentSystemErrors.ts"
import { LocalAgents, type LocalAgentsShape } from "../../src/agents/LocalAgents.ts"
import { startActivationDriver } from "../../src/cluster/ActivationDriver.ts"
import { ClusterStatsLive } from "../../src/cluster/GatewayHosting.ts"
import { GatewayOwnership } from "../../src/cluster/GatewayOwnership.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { createTestDatabase } from "../support/database.ts"

/** What the fake engine does with one gateway's `Ensure`. */
type EnsureAnswer = "fail" | "host" | "hang"

/**
 * The activation driver against fakes of the engine (its entity client), the ownership and the
 * local actors, on a real database holding the gateways (docs/architecture.md §11).
 */
const harness = (databaseUrl: string) => {
  const hosted = new Set<string>()
  const owned = new Set<string>()
  const answers = new Map<string, EnsureAnswer>()
  const waiting = new Set<string>()
  const interrupted = new Set<string>()
  const runnerReads = { count: 0 }
  const shards = { owned: 300, swaps: 0 }
  const ensure = (gatewayId: string) =>
    Effect.suspend(() => {
      const answer = answers.get(gatewayId) ?? "host"
      if (answer === "fail") return Effect.fail({ _tag: "EntityNotAssignedToRunner" as const })
      if (answer === "hang") {
        waiting.add(gatewayId)
        return Effect.onInterrupt(Effect.never, () => Effect.sync(() => void interrupted.add(gatewayId)))
      }
      return Effect.sync(() => void hosted.add(gatewayId))
    })
  const retired: Array<string> = []
  // A Retire lets the gateway go only when its row is gone: the fake is sent none for a stored one.
  // A gateway in `stuckRetires` takes its Retire and never answers it (an entity busy tearing down).
  const stuckRetires = new Set<string>()
  const retire = (gatewayId: string) =>
    Effect.suspend(() => {
      retired.push(gatewayId)
      return stuckRetires.has(gatewayId) ? Effect.never : Effect.sync(() => void hosted.delete(gatewayId))
    })
  const sharding = {
    makeClient: () => Effect.succeed((gatewayId: string) => ({ Ensure: () => ensure(gatewayId), Retire: () => retire(gatewayId) }))
  } as unknown as Sharding.Sharding["Type"]
  const local = { hosts: (id: string) => hosted.has(id), hostedGateways: () => [...hosted], failures: () => [], actorCount: () => hosted.size } as unknown as LocalAgentsShape
  const layer = Layer.mergeAll(
    Layer.succeed(Sharding.Sharding, sharding),
    Layer.succeed(LocalAgents, local),
    Layer.succeed(GatewayOwnership, {
      owns: (id) => owned.has(id),
      shardOf: () => ShardId.make("default", 1),
      ownedShards: () => shards.owned,
      ownedShardsKey: () => `${shards.owned} held, ${shards.swaps} swapped`,
      self: "127.0.0.1:1",
      shardsPerGroup: 300
    }),
    // Each reap pass and each fence pass reads the runners once.
    Layer.succeed(RunnerStorage.RunnerStorage, { getRunners: Effect.sync(() => void (runnerReads.count += 1)).pipe(Effect.as([])) } as unknown as RunnerStorage.RunnerStorage["Type"]),
    Layer.succeed(RunnerHealth.RunnerHealth, {} as RunnerHealth.RunnerHealth["Type"]),
    ClusterStatsLive
  ).pipe(Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)), Layer.provideMerge(AppConfigTest({ databaseUrl: Option.some(Redacted.make(databaseUrl)) })))
  /** Starts the driver in `scope` (its services too); answers its readiness as a promise. */
  const start = (scope: Scope.CloseableScope) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const context = yield* Layer.buildWithScope(layer, scope)
        const driver = yield* startActivationDriver.pipe(Effect.provide(context), Scope.extend(scope))
        return () => Effect.runPromise(driver.readiness)
      })
    )
  return { hosted, owned, answers, waiting, interrupted, runnerReads, shards, retired, stuckRetires, start }
}

describe("activation driver", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let client: pg.Client

  beforeAll(async () => {
    db = await createTestDatabase()
    const migrate = ManagedRuntime.make(Layer.provideMerge(MigrationsLive, SqlLive).pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
    await migrate.runPromise(Effect.void)
    await migrate.dispose()
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
  })

  afterAll(async () => {
    await client.end()
    await db.drop()
  })

  const gateway = async () => {
    const id = randomUUID()
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, $2, 'ws://127.0.0.1:1', '/tmp')", [id, `gw-${id}`])
    return id
  }

  it("is ready only once every owned gateway is hosted: a failed first Ensure keeps it restoring, with that gateway as the reason", async () => {
    const [good, bad] = [await gateway(), await gateway()]
    const { hosted, owned, answers, start } = harness(db.url)
    owned.add(good).add(bad)
    answers.set(bad, "fail")
    const scope = Effect.runSync(Scope.make())
    try {
      const read = await start(scope)
      await expect.poll(read, { timeout: 15_000 }).toMatchObject({ state: "restoring", reason: expect.stringContaining(bad) as unknown })
      expect(hosted.has(good)).toBe(true)
      answers.set(bad, "host")
      await expect.poll(read, { timeout: 15_000 }).toEqual({ state: "ready" } satisfies Readiness)
      expect(hosted.has(bad)).toBe(true)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("sends Retire to a gateway hosted here whose row its read no longer finds, and to none still stored", async () => {
    const [kept, deleted] = [await gateway(), await gateway()]
    const { hosted, owned, retired, start } = harness(db.url)
    owned.add(kept).add(deleted)
    const scope = Effect.runSync(Scope.make())
    try {
      const read = await start(scope)
      await expect.poll(read, { timeout: 15_000 }).toEqual({ state: "ready" } satisfies Readiness)
      expect([...hosted].sort()).toEqual([kept, deleted].sort())
      // The row goes with no Retire sent by the deletion (lost): the next read (10 s at most) makes it good.
      await client.query("delete from gateways where id = $1", [deleted])
      await expect.poll(() => retired, { timeout: 15_000 }).toEqual([deleted])
      expect(hosted.has(kept)).toBe(true)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 30_000)

  it("asks a gateway whose row is gone for one Retire at a time: reads while it is unanswered send no other", async () => {
    const [deleted, failing] = [await gateway(), await gateway()]
    const { hosted, owned, answers, retired, stuckRetires, runnerReads, start } = harness(db.url)
    owned.add(deleted)
    const scope = Effect.runSync(Scope.make())
    try {
      const read = await start(scope)
      await expect.poll(read, { timeout: 15_000 }).toEqual({ state: "ready" } satisfies Readiness)
      stuckRetires.add(deleted)
      await client.query("delete from gateways where id = $1", [deleted])
      // A gateway that keeps failing to activate makes the driver read the stored gateways every pass.
      answers.set(failing, "fail")
      owned.add(failing)
      await expect.poll(() => retired, { timeout: 15_000 }).toEqual([deleted])
      const readsThen = runnerReads.count
      await expect.poll(() => runnerReads.count, { timeout: 15_000 }).toBeGreaterThan(readsThen + 2)
      expect(retired).toEqual([deleted])
      expect(hosted.has(deleted)).toBe(true)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 45_000)

  it("pings and fences other runners while an owned gateway keeps failing to activate", async () => {
    const bad = await gateway()
    const { owned, answers, runnerReads, start } = harness(db.url)
    owned.add(bad)
    answers.set(bad, "fail")
    const scope = Effect.runSync(Scope.make())
    try {
      const read = await start(scope)
      await expect.poll(read, { timeout: 15_000 }).toMatchObject({ state: "restoring", reason: expect.stringContaining(bad) as unknown })
      // Beyond the two reads at the join (sessions, then pings): the reap and fence loops run though readiness waits.
      await expect.poll(() => runnerReads.count, { timeout: 15_000 }).toBeGreaterThanOrEqual(4)
      expect(await read()).toMatchObject({ state: "restoring" })
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("runs every Ensure in its scope: one still waiting when the scope closes is interrupted", async () => {
    const { owned, answers, waiting, interrupted, shards, start } = harness(db.url)
    const scope = Effect.runSync(Scope.make())
    const read = await start(scope)
    await expect.poll(read, { timeout: 15_000 }).toEqual({ state: "ready" })
    // A gateway this runner comes to own after it is ready (a takeover) whose activation hangs.
    const late = await gateway()
    answers.set(late, "hang")
    owned.add(late)
    shards.owned -= 1
    await expect.poll(() => waiting.has(late), { timeout: 15_000 }).toBe(true)
    expect(interrupted.has(late)).toBe(false)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(interrupted.has(late)).toBe(true)
  })

  /**
   * A gateway stored and owned once the driver is ready, with the shard set unchanged, is not read
   * (the ids read a moment ago still serve); after `takeOver` the next check reads and hosts it.
   */
  const readsAtTakeover = async (shardsAtStart: number, takeOver: (shards: { owned: number; swaps: number }) => void) => {
    const { hosted, owned, shards, start } = harness(db.url)
    shards.owned = shardsAtStart
    const scope = Effect.runSync(Scope.make())
    try {
      const read = await start(scope)
      await expect.poll(read, { timeout: 15_000 }).toEqual({ state: "ready" })
      const quiet = await gateway()
      owned.add(quiet)
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      expect(hosted.has(quiet)).toBe(false)
      takeOver(shards)
      await expect.poll(() => hosted.has(quiet), { timeout: 3_000 }).toBe(true)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }

  it("reads the stored gateways again at a takeover (its shard count changed), not every second while it holds the same shards", () =>
    readsAtTakeover(150, (shards) => {
      shards.owned = 300
    }))

  it("reads the stored gateways again at a takeover that swaps shards one for one (same count)", () =>
    readsAtTakeover(300, (shards) => {
      // One shard given up, another taken: the count holds, the set does not.
      shards.swaps += 1
    }))
})
