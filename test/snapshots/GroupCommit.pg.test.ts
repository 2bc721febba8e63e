import { randomUUID } from "node:crypto"
import { Cause, Effect, Exit, Layer, Logger, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AgentProjection } from "../../src/agents/agentProjection.ts"
import { groupCommitLaneStarts } from "../../src/observability/metrics.ts"
import { GroupCommit, groupCommitLayer, STALLED_MS, type AgentWrite, type GroupCommitOptions } from "../../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../../src/snapshots/SnapshotWriter.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { ActivityRepoLive } from "../../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { TransitionRepoLive } from "../../src/store/TransitionRepo.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { createTestDatabase } from "../support/database.ts"

const projection = (id: string, overrides: Partial<AgentProjection> = {}): AgentProjection =>
  agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}`, ...overrides })

describe("group commit of agent snapshots", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  // One lane: a batch in flight holds back every write behind it, however long it takes (most cases below queue writes behind a held row).
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
  // The service's own group commit: the next batch commits beside one that stalls.
  let laned: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
  // Two lanes, but a batch stalls only after a minute: in these tests no batch ever does.
  let patient: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof layer>, unknown>
  let client: pg.Client
  let gatewayId: string
  // What the writers log (first part of each message).
  const logged: string[] = []
  const capture = Logger.add(Logger.make(({ message }) => void logged.push(String(Array.isArray(message) ? message[0] : message))))
  const repos = Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive), Layer.provideMerge(MigrationsLive, SqlLive))
  const layer = groupCommitLayer({ lanes: 1 }).pipe(Layer.provideMerge(repos))

  /** A group commit of its own with `options`, on this file's database. */
  const started = async (options: GroupCommitOptions) => {
    const made = ManagedRuntime.make(groupCommitLayer(options).pipe(Layer.provideMerge(repos), Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
    await made.runPromise(Effect.void)
    return made
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    runtime = ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))))
    await runtime.runPromise(Effect.void)
    // The service's own group commit, its defaults (MAX_LANES, STALLED_MS): the next batch commits beside one that stalls (docs/architecture.md §6.5).
    laned = await started({})
    patient = await started({ lanes: 2, stalledMs: 60_000 })
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    gatewayId = randomUUID()
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, 'gw', 'ws://127.0.0.1:1', '/tmp')", [gatewayId])
  })

  afterAll(async () => {
    await client.end()
    await laned.dispose()
    await patient.dispose()
    await runtime.dispose()
    await db.drop()
  })

  /** A stored agent at version 0 and a writer for it; `stale` lists the agents its writer reports stale. */
  const agent = async (stale: Array<string> = [], on: typeof runtime = runtime) => {
    const id = randomUUID()
    await client.query(
      `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
       values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
      [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
    )
    const writer = new SnapshotWriter(id, 0, 0, (effect) => void on.runFork(effect.pipe(Effect.provide(capture))), 500, (agentId) => void stale.push(agentId))
    return { id, writer }
  }

  const transition = (n: number) => ({ gatewayId, boardId: null, fromState: "online", toState: "online", eventType: `step.${n}`, errorTag: null, at: new Date() })

  /** Resolves when `version` of the writer is persisted; `settled()` says whether it has. */
  const watch = (writer: SnapshotWriter, version: number, on: typeof runtime = runtime) => {
    let settled = false
    const done = on.runPromise(writer.awaitPersisted(version)).then(() => void (settled = true))
    return { done, settled: () => settled }
  }

  it("commits several agents' writes in one transaction and releases each waiter at that commit", async () => {
    const blocker = await agent()
    const others = await Promise.all([agent(), agent(), agent()])
    // Hold the blocker's row, so its batch is in flight (waiting) while the others queue up.
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    try {
      await holder.query("begin")
      await holder.query("select 1 from agents where id = $1 for update", [blocker.id])
      const blocked = watch(blocker.writer, blocker.writer.offer({ n: 1 }, projection(blocker.id), [], transition(1)))
      await expect.poll(async () => (await client.query("select count(*)::int as n from pg_locks where not granted")).rows[0].n).toBeGreaterThan(0)
      const waiting = others.map(({ id, writer }) => watch(writer, writer.offer({ n: 1 }, projection(id, { statePath: "online.busy" }), [{ eventType: "agent.test", message: id, agentId: id }], transition(1))))
      // Queued behind the commit in flight: none is released, none is written.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect([blocked, ...waiting].map((w) => w.settled())).toEqual([false, false, false, false])
      expect((await client.query("select count(*)::int as n from agents where version > 0")).rows[0].n).toBe(0)
      await holder.query("rollback")
      await Promise.all([blocked.done, ...waiting.map((w) => w.done)])
    } finally {
      await holder.end()
    }
    // Released only once committed: the rows, activity and transitions are there, from ONE transaction.
    const { rows } = await client.query<{ version: string; state_path: string; xmin: string }>("select version, state_path, xmin::text from agents where id = any($1)", [others.map((o) => o.id)])
    expect(rows.map((row) => [row.version, row.state_path])).toEqual([["1", "online.busy"], ["1", "online.busy"], ["1", "online.busy"]])
    expect(new Set(rows.map((row) => row.xmin)).size).toBe(1)
    const activity = await client.query("select agent_id from activity where agent_id = any($1)", [others.map((o) => o.id)])
    expect(activity.rows).toHaveLength(3)
    const transitions = await client.query("select id from agent_transitions where agent_id = any($1)", [others.map((o) => o.id)])
    expect(transitions.rows).toHaveLength(3)
    expect(transitions.rows.every((row) => Number(row.id) > 0)).toBe(true)
  })

  it("writes a refused agent's snapshots later, in order and complete, without holding back its batch", async () => {
    const poisoned = await agent()
    const healthy = await Promise.all([agent(), agent()])
    await client.query("create table if not exists refuse (agent_id uuid primary key)")
    await client.query(`
      create or replace function refuse_writes() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from refuse where agent_id = new.id) then raise exception 'refused'; end if;
        return new;
      end $$`)
    await client.query("drop trigger if exists refuse_writes on agents")
    await client.query("create trigger refuse_writes before update on agents for each row execute function refuse_writes()")
    await client.query("insert into refuse values ($1)", [poisoned.id])
    try {
      const first = watch(poisoned.writer, poisoned.writer.offer({ n: 1 }, projection(poisoned.id), [{ eventType: "agent.test", message: "1", agentId: poisoned.id }], transition(1)))
      const others = healthy.map(({ id, writer }) => watch(writer, writer.offer({ n: 1 }, projection(id), [], transition(1))))
      // The healthy agents commit although they shared a batch with the refused one.
      await Promise.all(others.map((w) => w.done))
      expect(first.settled()).toBe(false)
      // More of the refused agent's changes arrive while it retries: they coalesce, none is lost.
      poisoned.writer.offer({ n: 2 }, projection(poisoned.id), [{ eventType: "agent.test", message: "2", agentId: poisoned.id }], transition(2))
      const last = watch(poisoned.writer, poisoned.writer.offer({ n: 3 }, projection(poisoned.id), [{ eventType: "agent.test", message: "3", agentId: poisoned.id }], transition(3)))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(last.settled()).toBe(false)
      expect((await client.query("select version from agents where id = $1", [poisoned.id])).rows[0].version).toBe("0")
      await client.query("delete from refuse where agent_id = $1", [poisoned.id])
      await Promise.all([first.done, last.done])
    } finally {
      await client.query("drop trigger if exists refuse_writes on agents")
    }
    expect((await client.query("select version, snapshot from agents where id = $1", [poisoned.id])).rows[0]).toEqual({ version: "3", snapshot: { n: 3 } })
    const transitions = await client.query<{ version: string; event_type: string }>("select version, event_type from agent_transitions where agent_id = $1 order by id", [poisoned.id])
    expect(transitions.rows).toEqual([
      { version: "1", event_type: "step.1" },
      { version: "2", event_type: "step.2" },
      { version: "3", event_type: "step.3" }
    ])
    const activity = await client.query<{ message: string }>("select message from activity where agent_id = $1 order by id", [poisoned.id])
    expect(activity.rows.map((row) => row.message)).toEqual(["1", "2", "3"])
  })

  // A snapshot writer meets the versions another runner wrote (docs/architecture.md §11).
  const stored = async (id: string) => {
    const { rows } = await client.query<{ version: string; snapshot: unknown }>("select version::text, snapshot from agents where id = $1", [id])
    return { version: Number(rows[0]?.version), snapshot: rows[0]?.snapshot }
  }
  const count = async (table: "agent_transitions" | "activity", id: string) =>
    (await client.query<{ n: number }>(`select count(*)::int as n from ${table} where agent_id = $1`, [id])).rows[0]?.n
  const failureOf = async (effect: Effect.Effect<void, unknown, never>, on: typeof runtime = runtime) => {
    const exit = await on.runPromiseExit(effect)
    return Exit.isFailure(exit) && exit.cause._tag === "Fail" ? (exit.cause.error as { _tag: string; reason?: string }) : undefined
  }

  it("refuses a write at a version another runner already stored: nothing of it is saved, its waiter fails and the owner is told", async () => {
    const stale: Array<string> = []
    const late = await agent(stale)
    const fresh = await agent(stale)
    // Another runner (the gateway's new owner, or a late write of the old one) stored version 1 first.
    await client.query(`update agents set version = 1, snapshot = '{"by":"other"}' where id = $1`, [late.id])
    const refused = failureOf(late.writer.awaitPersisted(late.writer.offer({ by: "us" }, projection(late.id), [{ eventType: "agent.test", message: "late", agentId: late.id }], transition(1))))
    const saved = runtime.runPromise(fresh.writer.awaitPersisted(fresh.writer.offer({ by: "us" }, projection(fresh.id), [], transition(1))))
    expect(await refused).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "stale" })
    await saved
    expect(stale).toEqual([late.id])
    expect(await stored(late.id)).toEqual({ version: 1, snapshot: { by: "other" } })
    expect(await count("agent_transitions", late.id)).toBe(0)
    expect(await count("activity", late.id)).toBe(0)
    // The other agent's write, in the same batch or not, is saved with its transition.
    expect(await stored(fresh.id)).toEqual({ version: 1, snapshot: { by: "us" } })
    expect(await count("agent_transitions", fresh.id)).toBe(1)
    // The writer has ended: a later offer is never written, its wait fails at once.
    expect(late.writer.isEnded).toBe(true)
    expect(await failureOf(late.writer.awaitPersisted(late.writer.offer({ by: "us", n: 2 }, projection(late.id), [])))).toMatchObject({ reason: "stale" })
  })

  it("a closed writer writes nothing more: a write retrying after a failure stops and its waiter fails", async () => {
    const { id, writer } = await agent()
    const other = await agent()
    // A name another live agent of the gateway holds: the write fails (unique violation) and retries.
    const failing = writer.awaitPersisted(writer.offer({ n: 1 }, projection(id, { name: `agent-${other.id}` }), [], transition(1)))
    const waited = failureOf(failing)
    await runtime.runPromise(writer.close())
    expect(await waited).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
    // The name is free again: a writer still retrying would now succeed.
    await client.query("update agents set deleted_at = now() where id = $1", [other.id])
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await stored(id)).version).toBe(0)
  })

  it("close withdraws a write still queued behind a batch in flight; closing the writer of that batch waits for its end", async () => {
    const blocker = await agent()
    const { id, writer } = await agent()
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    try {
      await holder.query("begin")
      await holder.query("select 1 from agents where id = $1 for update", [blocker.id])
      blocker.writer.offer({ n: 1 }, projection(blocker.id), [])
      await expect.poll(async () => (await client.query("select count(*)::int as n from pg_locks where not granted")).rows[0].n).toBeGreaterThan(0)
      const queued = failureOf(writer.awaitPersisted(writer.offer({ n: 1 }, projection(id), [], transition(1))))
      // The batch in flight still waits on the held row; the queued write is taken out.
      await runtime.runPromise(writer.close())
      expect(await queued).toMatchObject({ reason: "withdrawn" })
      let closed = false
      const closing = runtime.runPromise(blocker.writer.close()).then(() => void (closed = true))
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(closed).toBe(false)
      await holder.query("rollback")
      await closing
      // The write that was in flight when its writer closed committed before the close returned.
      expect((await stored(blocker.id)).version).toBe(1)
      expect((await stored(id)).version).toBe(0)
      expect(await count("agent_transitions", id)).toBe(0)
    } finally {
      await holder.end()
    }
  })

  // Sessions of this test's database waiting for a lock (other databases share the server).
  const waitingHere = "from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
  const lockWaits = async () => (await client.query<{ n: number }>(`select count(*)::int as n ${waitingHere}`)).rows[0]?.n ?? 0
  /** A client holding the agent's row (in a transaction) until it rolls back. */
  const holding = async (id: string) => {
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    await holder.query("begin")
    await holder.query("select 1 from agents where id = $1 for update", [id])
    return holder
  }

  it("a write that fails after its writer closed is not retried: close returns without a retry", async () => {
    const { id, writer } = await agent()
    const holder = await holding(id)
    try {
      const waited = failureOf(writer.awaitPersisted(writer.offer({ n: 1 }, projection(id), [])))
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closed = runtime.runPromise(writer.close())
      // The write in flight fails (cancelled) after the close.
      await client.query(`select pg_cancel_backend(pid) ${waitingHere}`)
      await closed
      expect(await waited).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
      expect(logged.filter((line) => line.includes(id))).toEqual([])
    } finally {
      await holder.query("rollback")
      await holder.end()
    }
    expect((await stored(id)).version).toBe(0)
  })

  it("a batch that fails does not write a closed writer's write alone afterwards", async () => {
    const first = await agent()
    const closing = await agent()
    const failing = await agent()
    const holdFirst = await holding(first.id)
    const holdClosing = await holding(closing.id)
    try {
      // The first batch waits on its row while the next two writes queue behind it.
      const firstSaved = runtime.runPromise(first.writer.awaitPersisted(first.writer.offer({ n: 1 }, projection(first.id), [])))
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closingWait = failureOf(closing.writer.awaitPersisted(closing.writer.offer({ n: 1 }, projection(closing.id), [])))
      // A transition without a target state: its insert, after the rows are updated, fails the batch.
      failing.writer.offer({ n: 1 }, projection(failing.id), [], { ...transition(1), toState: null as unknown as string })
      await holdFirst.query("rollback")
      await firstSaved
      // The second batch (both writes) now waits on the closing writer's row.
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closed = runtime.runPromise(closing.writer.close())
      await holdClosing.query("rollback")
      await closed
      expect(await closingWait).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
      expect((await stored(closing.id)).version).toBe(0)
    } finally {
      await runtime.runPromise(failing.writer.close())
      await holdFirst.end()
      await holdClosing.end()
    }
  })
  it("keeps a followed agent's newest save as its row holds it, before its waiter is answered; an unfollowed agent's save is not kept", async () => {
    const followed = await agent()
    const other = await agent()
    const commits = await runtime.runPromise(GroupCommit)
    const follow = commits.follow(followed.id)
    const otherFollow = commits.follow(other.id)
    otherFollow.release()
    try {
      expect(follow.saved()).toBeUndefined()
      const version = followed.writer.offer({ n: 1, context: { generation: 2 } }, projection(followed.id, { statePath: "online.busy" }), [])
      // Read the moment the writer is answered: the save is already kept.
      const atAnswer = await runtime.runPromise(Effect.map(followed.writer.awaitPersisted(version), () => follow.saved()))
      await runtime.runPromise(other.writer.awaitPersisted(other.writer.offer({ n: 1 }, projection(other.id), [])))
      const { rows } = await client.query("select gateway_id, version::text, created_at, updated_at from agents where id = $1", [followed.id])
      expect(atAnswer).toMatchObject({
        id: followed.id,
        gatewayId: rows[0].gateway_id,
        version: rows[0].version,
        createdAt: rows[0].created_at,
        updatedAt: rows[0].updated_at,
        statePath: "online.busy",
        snapshot: { n: 1, context: { generation: 2 } }
      })
      expect(otherFollow.saved()).toBeUndefined()
      // A later save replaces it; a release ends the follow (a new one starts empty).
      await runtime.runPromise(followed.writer.awaitPersisted(followed.writer.offer({ n: 2 }, projection(followed.id), [])))
      expect(follow.saved()?.version).toBe(String(version + 1))
    } finally {
      follow.release()
    }
    const fresh = commits.follow(followed.id)
    expect(fresh.saved()).toBeUndefined()
    fresh.release()
  })
  /** A client holding the agents' rows (in a transaction) until it rolls back. */
  const holdingRows = async (ids: ReadonlyArray<string>) => {
    const holder = new pg.Client({ connectionString: db.url })
    await holder.connect()
    await holder.query("begin")
    await holder.query("select 1 from agents where id = any($1) for update", [ids])
    return holder
  }
  /** Batches started beside a stalled one so far (`switchyard_group_commit_lane_starts_total{reason="stalled"}`). */
  const stalledStarts = async () => (await groupCommitLaneStarts.get()).values.find((value) => value.labels["reason"] === "stalled")?.value ?? 0
  const waitsHere = async () => (await client.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]?.n ?? 0

  it("a batch that stalls holds back no other agent's write: the writes behind it commit beside it, in one transaction", async () => {
    const blocker = await agent([], laned)
    const others = await Promise.all([agent([], laned), agent([], laned), agent([], laned)])
    const startsBefore = await stalledStarts()
    const holder = await holdingRows([blocker.id])
    const blocked = watch(blocker.writer, blocker.writer.offer({ n: 1 }, projection(blocker.id), [], transition(1)), laned)
    try {
      await expect.poll(waitsHere).toBe(1)
      // Offered together once the blocker's batch has stalled (longer than STALLED_MS): one batch beside it.
      await new Promise((resolve) => setTimeout(resolve, 2 * STALLED_MS))
      const waiting = others.map(({ id, writer }) => watch(writer, writer.offer({ n: 1 }, projection(id), [{ eventType: "agent.test", message: id, agentId: id }], transition(1)), laned))
      // Saved while the blocker's row is still held (and its statement, 10 s at most, still waits).
      await expect.poll(() => waiting.every((w) => w.settled()), { timeout: 5_000 }).toBe(true)
      expect(blocked.settled()).toBe(false)
      const { rows } = await client.query<{ version: string; xmin: string }>("select version::text, xmin::text from agents where id = any($1)", [others.map((o) => o.id)])
      expect(rows.map((row) => row.version)).toEqual(["1", "1", "1"])
      expect(new Set(rows.map((row) => row.xmin)).size).toBe(1)
      expect(await stalledStarts()).toBe(startsBefore + 1)
      expect(await count("activity", others[0]!.id)).toBe(1)
      expect(await count("agent_transitions", others[0]!.id)).toBe(1)
    } finally {
      await holder.query("rollback")
      await holder.end()
    }
    // The stalled batch commits once its row is free, complete.
    await blocked.done
    expect((await stored(blocker.id)).version).toBe(1)
    expect(await count("agent_transitions", blocker.id)).toBe(1)
  })

  it("with every lane stalled, the writes behind wait for one to end, then commit together", async () => {
    const [first, second, ...rest] = await Promise.all([agent([], laned), agent([], laned), agent([], laned), agent([], laned)])
    const holdFirst = await holdingRows([first!.id])
    const holdSecond = await holdingRows([second!.id])
    const firstSaved = watch(first!.writer, first!.writer.offer({ n: 1 }, projection(first!.id), []), laned)
    await expect.poll(waitsHere).toBe(1)
    const secondSaved = watch(second!.writer, second!.writer.offer({ n: 1 }, projection(second!.id), []), laned)
    try {
      await expect.poll(waitsHere).toBe(2)
      const waiting = rest.map(({ id, writer }) => watch(writer, writer.offer({ n: 1 }, projection(id), []), laned))
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect([firstSaved, secondSaved, ...waiting].map((w) => w.settled())).toEqual([false, false, false, false])
      await holdFirst.query("rollback")
      await Promise.all([firstSaved.done, ...waiting.map((w) => w.done)])
      expect(secondSaved.settled()).toBe(false)
      const { rows } = await client.query<{ xmin: string }>("select xmin::text from agents where id = any($1)", [rest.map((o) => o.id)])
      expect(new Set(rows.map((row) => row.xmin)).size).toBe(1)
    } finally {
      await holdFirst.end()
      await holdSecond.query("rollback")
      await holdSecond.end()
    }
    await secondSaved.done
    expect((await stored(second!.id)).version).toBe(1)
  })

  it("a closed writer's write still in a batch holds back its agent's new writer, not the agents beside it; the new write is then refused stale", async () => {
    const oldStale: Array<string> = []
    const newStale: Array<string> = []
    const old = await agent(oldStale, laned)
    const other = await agent([], laned)
    const holder = await holdingRows([old.id])
    try {
      old.writer.offer({ by: "old" }, projection(old.id), [], transition(1))
      await expect.poll(waitsHere).toBe(1)
      // Its close outlasts its bound (stopActors) and the gateway is hosted here again: a new
      // writer, restored from the unchanged row, writes the same version.
      const closing = laned.runPromise(old.writer.close())
      await new Promise((resolve) => setTimeout(resolve, 2 * STALLED_MS))
      const fresh = new SnapshotWriter(old.id, 0, 0, (effect) => void laned.runFork(effect.pipe(Effect.provide(capture))), 500, (agentId) => void newStale.push(agentId))
      const refused = failureOf(fresh.awaitPersisted(fresh.offer({ by: "new" }, projection(old.id), [], transition(2))), laned)
      const otherSaved = watch(other.writer, other.writer.offer({ n: 1 }, projection(other.id), []), laned)
      // The other agent commits beside the stalled batch; the new write is not in its batch.
      await expect.poll(() => otherSaved.settled(), { timeout: 5_000 }).toBe(true)
      expect(await waitsHere()).toBe(1)
      await holder.query("rollback")
      await closing
      // Only after the closed writer's batch: its version is stored, the new writer is told (its agent reloads).
      expect(await refused).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "stale" })
      expect(newStale).toEqual([old.id])
      expect(oldStale).toEqual([])
      expect(await stored(old.id)).toEqual({ version: 1, snapshot: { by: "old" } })
      const { rows } = await client.query<{ event_type: string }>("select event_type from agent_transitions where agent_id = $1", [old.id])
      expect(rows.map((row) => row.event_type)).toEqual(["step.1"])
    } finally {
      await holder.end()
    }
  })

  it("a closed writer's write refused as stale reloads nothing: only a writer not yet ended calls onStale", async () => {
    const stale: Array<string> = []
    const { id, writer } = await agent(stale)
    const holder = await holding(id)
    try {
      const waited = failureOf(writer.awaitPersisted(writer.offer({ by: "closed" }, projection(id), [], transition(1))))
      await expect.poll(lockWaits).toBeGreaterThan(0)
      const closed = runtime.runPromise(writer.close())
      // The agent's new owner stores version 1 meanwhile.
      await holder.query(`update agents set version = 1, snapshot = '{"by":"new"}' where id = $1`, [id])
      await holder.query("commit")
      await closed
      expect(await waited).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
      expect(stale).toEqual([])
      expect(await stored(id)).toEqual({ version: 1, snapshot: { by: "new" } })
    } finally {
      await holder.end()
    }
  })

  it("a write that cannot be encoded fails its batch, not the group commit: the others of its batch are saved, its writer retries and closes", async () => {
    const blocker = await agent()
    const bad = await agent()
    const good = await agent()
    const holder = await holding(blocker.id)
    try {
      const blocked = watch(blocker.writer, blocker.writer.offer({ n: 1 }, projection(blocker.id), []))
      await expect.poll(lockWaits).toBeGreaterThan(0)
      // Queued behind the held batch, so both make up the next one; JSON has no BigInt.
      bad.writer.offer({ n: 1n }, projection(bad.id), [])
      const saved = watch(good.writer, good.writer.offer({ n: 1 }, projection(good.id), [], transition(1)))
      await holder.query("rollback")
      await Promise.all([blocked.done, saved.done])
      await expect.poll(() => logged.some((line) => line.startsWith(`persisting agent ${bad.id} failed`)), { timeout: 5_000 }).toBe(true)
      // Not left writing for ever: the close finds its writer between attempts.
      await runtime.runPromise(bad.writer.close())
      // The good write was saved by the retry write by write, never failed back to its writer.
      expect(logged.filter((line) => line.startsWith(`persisting agent ${good.id}`))).toEqual([])
    } finally {
      await holder.end()
    }
    expect((await stored(good.id)).version).toBe(1)
    expect((await stored(bad.id)).version).toBe(0)
  })

  it("a batch that commits within the stall threshold is never joined: the writes behind it wait for it, then commit together", async () => {
    const blocker = await agent([], patient)
    const others = await Promise.all([agent([], patient), agent([], patient)])
    const startsBefore = await stalledStarts()
    const holder = await holdingRows([blocker.id])
    try {
      const blocked = watch(blocker.writer, blocker.writer.offer({ n: 1 }, projection(blocker.id), []), patient)
      await expect.poll(waitsHere).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 2 * STALLED_MS))
      const waiting = others.map(({ id, writer }) => watch(writer, writer.offer({ n: 1 }, projection(id), []), patient))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect([blocked, ...waiting].map((w) => w.settled())).toEqual([false, false, false])
      expect((await client.query("select count(*)::int as n from agents where id = any($1) and version > 0", [others.map((o) => o.id)])).rows[0].n).toBe(0)
      await holder.query("rollback")
      await Promise.all([blocked.done, ...waiting.map((w) => w.done)])
    } finally {
      await holder.end()
    }
    const { rows } = await client.query<{ xmin: string }>("select xmin::text from agents where id = any($1)", [others.map((o) => o.id)])
    expect(new Set(rows.map((row) => row.xmin)).size).toBe(1)
    expect(await stalledStarts()).toBe(startsBefore)
  })

  /** Two batches in flight on `laned`, each waiting on its agent's held row; `release()` frees both. */
  const twoStalled = async (on: typeof runtime = laned) => {
    const [first, second] = await Promise.all([agent([], on), agent([], on)])
    const holdFirst = await holdingRows([first!.id])
    const holdSecond = await holdingRows([second!.id])
    const firstSaved = watch(first!.writer, first!.writer.offer({ n: 1 }, projection(first!.id), []), on)
    await expect.poll(waitsHere).toBe(1)
    const secondSaved = watch(second!.writer, second!.writer.offer({ n: 1 }, projection(second!.id), []), on)
    await expect.poll(waitsHere).toBe(2)
    const release = async () => {
      for (const holder of [holdFirst, holdSecond]) {
        await holder.query("rollback").catch(() => undefined)
        await holder.end()
      }
    }
    return { first: first!, second: second!, firstSaved, secondSaved, holdFirst, release }
  }

  it("with two lanes, close withdraws a write queued behind both; closing the writer of a batch in flight waits for its end", async () => {
    const lanes = await twoStalled()
    const { id, writer } = await agent([], laned)
    try {
      const queued = failureOf(writer.awaitPersisted(writer.offer({ n: 1 }, projection(id), [], transition(1))), laned)
      await new Promise((resolve) => setTimeout(resolve, 100))
      await laned.runPromise(writer.close())
      expect(await queued).toMatchObject({ reason: "withdrawn" })
      let closed = false
      // The close fails the wait on the write in flight (withdrawn), whether it commits or not.
      lanes.firstSaved.done.catch(() => undefined)
      const closing = laned.runPromise(lanes.first.writer.close()).then(() => void (closed = true))
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(closed).toBe(false)
      await lanes.holdFirst.query("rollback")
      await closing
      expect((await stored(lanes.first.id)).version).toBe(1)
      expect((await stored(id)).version).toBe(0)
      expect(await count("agent_transitions", id)).toBe(0)
    } finally {
      await lanes.release()
    }
    await lanes.secondSaved.done
  })

  it("with two lanes, a batch that fails beside a stalled one does not write a closed writer's write alone afterwards", async () => {
    const first = await agent([], laned)
    const closing = await agent([], laned)
    const failing = await agent([], laned)
    const holdFirst = await holdingRows([first.id])
    const holdClosing = await holdingRows([closing.id])
    try {
      const firstSaved = watch(first.writer, first.writer.offer({ n: 1 }, projection(first.id), []), laned)
      await expect.poll(waitsHere).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 2 * STALLED_MS))
      // Beside the stalled batch: one batch of both, waiting on the closing writer's row.
      const closingWait = failureOf(closing.writer.awaitPersisted(closing.writer.offer({ n: 1 }, projection(closing.id), [])), laned)
      failing.writer.offer({ n: 1 }, projection(failing.id), [], { ...transition(1), toState: null as unknown as string })
      await expect.poll(waitsHere).toBe(2)
      const closed = laned.runPromise(closing.writer.close())
      await holdClosing.query("rollback")
      await closed
      expect(await closingWait).toMatchObject({ _tag: "SnapshotWriteRefused", reason: "withdrawn" })
      expect((await stored(closing.id)).version).toBe(0)
      expect(firstSaved.settled()).toBe(false)
      await holdFirst.query("rollback")
      await firstSaved.done
    } finally {
      await laned.runPromise(failing.writer.close())
      await holdFirst.end()
      await holdClosing.end()
    }
  })

  it("at shutdown, every write of both lanes and of the queue is answered once; the queued one interrupted", async () => {
    const own = await started({ lanes: 2 })
    const [first, second, queued] = await Promise.all([agent([], own), agent([], own), agent([], own)])
    const holdFirst = await holdingRows([first!.id])
    const holdSecond = await holdingRows([second!.id])
    const answers = new Map<string, Array<Exit.Exit<void, unknown>>>()
    const commits = await own.runPromise(GroupCommit)
    const enqueue = (agentId: string) =>
      commits.enqueue({ agentId, version: 1, projection: projection(agentId), snapshot: { n: 1 }, activity: [], transitions: [], beat: undefined, pruneTo: undefined }, (exit) =>
        void answers.set(agentId, [...(answers.get(agentId) ?? []), exit])
      )
    try {
      enqueue(first!.id)
      await expect.poll(waitsHere).toBe(1)
      enqueue(second!.id)
      await expect.poll(waitsHere).toBe(2)
      enqueue(queued!.id)
      const disposed = own.dispose()
      await new Promise((resolve) => setTimeout(resolve, 100))
      // The lanes' statements end once the rows are free.
      for (const holder of [holdFirst, holdSecond]) await holder.query("rollback")
      await disposed
      expect([first!.id, second!.id, queued!.id].map((id) => answers.get(id)?.length)).toEqual([1, 1, 1])
      const last = answers.get(queued!.id)![0]!
      expect(Exit.isFailure(last) && Cause.isInterruptedOnly(last.cause)).toBe(true)
    } finally {
      await holdFirst.end()
      await holdSecond.end()
    }
  })

  it("at shutdown, a write its batch already answered (retried write by write) is not answered again", async () => {
    const own = await started({ lanes: 2 })
    const [saved, bad, held] = await Promise.all([agent([], own), agent([], own), agent([], own)])
    const holder = await holdingRows([held!.id])
    const answers = new Map<string, Array<Exit.Exit<void, unknown>>>()
    const commits = await own.runPromise(GroupCommit)
    const enqueue = (agentId: string, snapshot: unknown) =>
      commits.enqueue({ agentId, version: 1, projection: projection(agentId), snapshot, activity: [], transitions: [], beat: undefined, pruneTo: undefined }, (exit) =>
        void answers.set(agentId, [...(answers.get(agentId) ?? []), exit])
      )
    try {
      // One batch; it fails (JSON has no BigInt), so each write goes alone: the first commits, the last waits on its row.
      enqueue(saved!.id, { n: 1 })
      enqueue(bad!.id, { n: 1n })
      enqueue(held!.id, { n: 1 })
      await expect.poll(waitsHere).toBe(1)
      const disposed = own.dispose()
      await new Promise((resolve) => setTimeout(resolve, 100))
      await holder.query("rollback")
      await disposed
      expect([saved!.id, bad!.id, held!.id].map((id) => answers.get(id)?.length)).toEqual([1, 1, 1])
      expect(Exit.isSuccess(answers.get(saved!.id)![0]!)).toBe(true)
    } finally {
      await holder.end()
    }
  })
})
