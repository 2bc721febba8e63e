import { createHash, randomUUID } from "node:crypto"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { createActor, fromCallback, SimulatedClock } from "xstate"
import { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentEvent, AgentInput, AgentPolicy, ApplyInput, WakeInput } from "../../machines/agent/agentTypes.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { BoardRepo, BoardRepoLive } from "../../src/store/BoardRepo.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { GatewayRepo, GatewayRepoLive } from "../../src/store/GatewayRepo.ts"
import { createTestDatabase } from "../support/database.ts"

const TEMPLATE_ID = "7b0c0a4e-0000-4000-8000-00000000f1ee"

/**
 * The persisted snapshot of an agent that was provisioned and then heartbeated at `now` (state
 * `online`, its offline deadline at `now + policy.offlineAfterMs`), as JSON text with
 * placeholders `__ID__`, `__GATEWAY__`, `__BOARD__`, `__NAME__` and `__TOKEN_HASH__` for cloning in SQL.
 */
export const onlineSnapshotTemplate = (policy: AgentPolicy, now: number): string => {
  const clock = new SimulatedClock()
  clock.set(now - 1_000)
  const answer = <I>(type: "apply.done" | "wake.done", output: unknown) =>
    fromCallback<AgentEvent, I>(({ sendBack }) => {
      const timer = clock.setTimeout(() => sendBack({ type, at: clock.now(), output } as AgentEvent), 10)
      return () => clock.clearTimeout(timer)
    })
  const logic = agentMachine.provide({
    actors: {
      applyAgent: answer<ApplyInput>("apply.done", { tokenHash: "__TOKEN_HASH__", tokenSource: "minted" }),
      wakeAgent: answer<WakeInput>("wake.done", null)
    }
  })
  const input: AgentInput = {
    agentId: TEMPLATE_ID,
    gatewayId: "__GATEWAY__",
    boardId: "__BOARD__",
    role: "worker",
    gatewayAgentId: `mc-${TEMPLATE_ID}`,
    sessionKey: `agent:mc-${TEMPLATE_ID}:main`,
    spec: { name: "__NAME__", heartbeat: { every: "10m", target: "none" }, identityProfile: null, identityTemplate: null, soulTemplate: null },
    policy
  }
  const actor = createActor(logic, { input, clock }).start()
  for (let i = 0; i < 10; i++) clock.increment(10)
  clock.set(now)
  actor.send({ type: "agent.heartbeat", at: now })
  if (actor.getSnapshot().value !== "online") throw new Error(`template agent is ${JSON.stringify(actor.getSnapshot().value)}, not online`)
  const json = JSON.stringify(actor.getPersistedSnapshot())
  actor.stop()
  return json.replaceAll(TEMPLATE_ID, "__ID__")
}

export interface SeededFleet {
  /** The first agent: it holds the token `token`, so it can heartbeat. */
  readonly firstId: string
  readonly token: string
}

/**
 * Clones `count` online worker agents (version 1) onto `boardId` of `gatewayId` with one
 * INSERT … SELECT per 10,000 rows: the rows a fleet that was provisioned and heartbeated would
 * leave, made without provisioning each. Creation order follows the clone number.
 */
export const seedOnlineFleet = async (
  databaseUrl: string,
  fleet: { readonly gatewayId: string; readonly boardId: string; readonly count: number; readonly policy: AgentPolicy; readonly now?: number }
): Promise<SeededFleet> => {
  const now = fleet.now ?? Date.now()
  const template = onlineSnapshotTemplate(fleet.policy, now)
    .replaceAll("__GATEWAY__", fleet.gatewayId)
    .replaceAll("__BOARD__", fleet.boardId)
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const batch = 10_000
    for (let from = 0; from < fleet.count; from += batch) {
      const to = Math.min(fleet.count, from + batch) - 1
      await client.query(
        `insert into agents (id, gateway_id, board_id, name, role, gateway_agent_id, session_key, status, state_path, last_seen_at,
           token_hash, heartbeat_config, snapshot, machine_version, version, created_at, updated_at)
         select id, $1, $2, name, 'worker', 'mc-' || id, 'agent:mc-' || id || ':main', 'online', 'online', to_timestamp($4 / 1000.0),
           token_hash, '{"every":"10m","target":"none"}',
           replace(replace(replace($3, '__ID__', id::text), '__NAME__', name), '__TOKEN_HASH__', token_hash)::jsonb, '1', 1,
           now() - interval '1 hour' + n * interval '1 millisecond', now()
         from (select id, name, n, md5(id::text) || md5(name) as token_hash
               from (select gen_random_uuid() as id, 'Agent ' || n as name, n from generate_series($5::int, $6::int) as n) as numbered) as clones`,
        [fleet.gatewayId, fleet.boardId, template, now, from, to]
      )
    }
    const token = `sy_fleet_${fleet.gatewayId.slice(0, 8)}`
    const tokenHash = createHash("sha256").update(token, "utf8").digest("hex")
    const first = await client.query<{ id: string }>(
      `update agents set token_hash = $1, snapshot = jsonb_set(snapshot, '{context,tokenHash}', to_jsonb($1::text))
       where id = (select id from agents where board_id = $2 order by created_at, id limit 1) returning id`,
      [tokenHash, fleet.boardId]
    )
    await client.query("analyze agents")
    return { firstId: first.rows[0]!.id, token }
  } finally {
    await client.end()
  }
}

/**
 * The liveness limits of an agent policy (docs/operations.md §8), as config overrides and as
 * policy fields at once: a fleet seeded with them and a service started with them agree, so a
 * restore finds the policy unchanged and writes nothing.
 */
export const LIVENESS_LIMITS = { offlineFactor: 1.5, offlineGraceMs: 60_000, gatewayLostAfterMs: 90_000, maxFailedRuns: 3 } as const

/**
 * A fresh, migrated database on the machine's Postgres holding one gateway (unreachable), one
 * board and `count` online agents cloned by `seedOnlineFleet`; `drop` removes it.
 */
export const freshOnlineFleet = async (count: number, policy: AgentPolicy) => {
  const db = await createTestDatabase()
  const store = ManagedRuntime.make(
    Layer.mergeAll(GatewayRepoLive, BoardRepoLive).pipe(
      Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
      Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))
    )
  )
  try {
    const ids = await store.runPromise(
      Effect.gen(function* () {
        const gateway = yield* Effect.flatMap(GatewayRepo, (repo) =>
          repo.insert({ id: randomUUID(), name: "Fleet", url: "ws://127.0.0.1:1", token: Redacted.make("t"), workspaceRoot: "/srv" })
        )
        const board = yield* Effect.flatMap(BoardRepo, (repo) => repo.insert({ id: randomUUID(), gatewayId: gateway.id, name: "Fleet" }))
        return { gatewayId: gateway.id, boardId: board.id }
      })
    )
    const seeded = await seedOnlineFleet(db.url, { ...ids, count, policy })
    return { ...db, ...ids, ...seeded }
  } finally {
    await store.dispose()
  }
}
