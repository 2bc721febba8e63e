/**
 * What a same-state liveness event costs to persist (docs/architecture.md §6.5, §8.1): a gateway
 * signal that leaves an online agent online is a beat (one upsert in the snapshot's statement),
 * while any other same-state event is still a transition row (BEGIN, update, insert, trims,
 * COMMIT). Both kinds run here through the real `SnapshotWriter` and `GroupCommit` against a
 * fresh database on the machine's Postgres, through the statement-counting proxy
 * (`sqlCounter.ts`, a process of its own), so the "transition" figure is what a gateway signal
 * cost before it became a beat. Prints SQL statements and CPU ms per event, one event at a time
 * (each awaited durable) and in waves of `--agents` agents at once (group-committed batches).
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import type { AgentProjection } from "../src/agents/agentProjection.ts"
import { GroupCommitLive } from "../src/snapshots/GroupCommit.ts"
import { SnapshotWriter } from "../src/snapshots/SnapshotWriter.ts"
import { AppConfigTest } from "../src/config/AppConfig.ts"
import { ActivityRepoLive } from "../src/store/ActivityRepo.ts"
import { AgentRepoLive } from "../src/store/AgentRepo.ts"
import { MigrationsLive, SqlLive } from "../src/database/Database.ts"
import { TransitionRepoLive } from "../src/store/TransitionRepo.ts"
import { agentProjectionFixture } from "../test/support/agentProjectionFixture.ts"
import { createTestDatabase } from "../test/support/database.ts"
import { flag } from "./common.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const AGENTS = flag("--agents", 200)
const ROUNDS = flag("--rounds", 10)

const layer = GroupCommitLive.pipe(
  Layer.provideMerge(Layer.mergeAll(AgentRepoLive, ActivityRepoLive, TransitionRepoLive)),
  Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive))
)

export const signalWrites = async () => {
  const db = await createTestDatabase()
  const counter = spawn(process.execPath, [path.join(HERE, "sqlCounter.ts")], { stdio: ["pipe", "pipe", "inherit"] })
  counter.stdout.setEncoding("utf8")
  const nextLine = () => new Promise<string>((resolve) => counter.stdout.once("data", (chunk: string) => resolve(chunk.trim())))
  const port = Number(await nextLine())
  const statements = async () => (counter.stdin.write("n\n"), Number(await nextLine()))
  const proxied = new URL(db.url)
  proxied.host = `127.0.0.1:${port}`
  const runtime = ManagedRuntime.make(layer.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(proxied.toString())) }))))
  const client = new pg.Client({ connectionString: db.url })
  try {
    await runtime.runPromise(Effect.void)
    await client.connect()
    const gatewayId = randomUUID()
    await client.query("insert into gateways (id, name, url, workspace_root) values ($1, 'gw', 'ws://127.0.0.1:1', '/tmp')", [gatewayId])
    const agents: Array<{ id: string; projection: AgentProjection; writer: SnapshotWriter }> = []
    for (let i = 0; i < AGENTS; i++) {
      const id = randomUUID()
      await client.query(
        `insert into agents (id, gateway_id, name, role, gateway_agent_id, session_key, status, state_path, heartbeat_config, snapshot, machine_version)
         values ($1, $2, $3, 'worker', $4, $5, 'online', 'online', '{}', '{}', '1')`,
        [id, gatewayId, `agent-${id}`, `mc-${id}`, `agent:mc-${id}:main`]
      )
      const projection = agentProjectionFixture({ gatewayAgentId: `mc-${id}`, sessionKey: `agent:mc-${id}:main`, status: "online", statePath: "online", name: `agent-${id}` })
      agents.push({ id, projection, writer: new SnapshotWriter(id, 0, 0, (effect) => void runtime.runFork(effect)) })
    }
    const offer = (agent: (typeof agents)[number], eventType: string, n: number) =>
      agent.writer.offer({ n, eventType }, agent.projection, [], { gatewayId, boardId: null, fromState: "online", toState: "online", eventType, errorTag: null, at: new Date() })
    /** Statements and CPU ms per event for `events` events sent by `send`. */
    const measure = async (events: number, send: () => Promise<void>) => {
      const fromStatements = await statements()
      const fromCpu = process.cpuUsage()
      await send()
      const cpu = process.cpuUsage(fromCpu)
      return { statements: ((await statements()) - fromStatements) / events, cpuMs: (cpu.user + cpu.system) / 1_000 / events }
    }
    const kinds = [
      ["gateway.run.started (a beat)", "gateway.run.started"],
      ["agent.heartbeat (a beat)", "agent.heartbeat"],
      ["same-state non-liveness event (a transition: a gateway signal before)", "test.same.state"]
    ] as const
    let n = 0
    // Warm up (JIT, pool connections) with both kinds, unmeasured.
    for (const [, eventType] of kinds) {
      n++
      await runtime.runPromise(Effect.forEach(agents, (agent) => agent.writer.awaitPersisted(offer(agent, eventType, n)), { concurrency: "unbounded", discard: true }))
    }
    console.log(`\nsignalWrites: ${AGENTS} agents, ${ROUNDS} rounds (load average ${(await import("node:os")).loadavg()[0]!.toFixed(1)})`)
    for (const [label, eventType] of kinds) {
      const lone = await measure(ROUNDS, async () => {
        for (let round = 0; round < ROUNDS; round++) await runtime.runPromise(agents[0]!.writer.awaitPersisted(offer(agents[0]!, eventType, ++n)))
      })
      const waves = await measure(ROUNDS * AGENTS, async () => {
        for (let round = 0; round < ROUNDS; round++) {
          n++
          await runtime.runPromise(Effect.forEach(agents, (agent) => agent.writer.awaitPersisted(offer(agent, eventType, n)), { concurrency: "unbounded", discard: true }))
        }
      })
      console.log(
        `  ${label}: one at a time ${lone.statements.toFixed(2)} statements, ${lone.cpuMs.toFixed(2)} CPU ms per event; ` +
          `${AGENTS} at once ${waves.statements.toFixed(2)} statements, ${waves.cpuMs.toFixed(3)} CPU ms per event`
      )
    }
  } finally {
    await client.end()
    await runtime.dispose()
    counter.stdin.end()
    await db.drop()
  }
}
