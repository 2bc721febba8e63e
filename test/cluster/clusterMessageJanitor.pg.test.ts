import { MachineId, ShardingConfig, SqlMessageStorage, Snowflake } from "@effect/cluster"
import type { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanProcessedClusterMessages, CLUSTER_MESSAGE_RETENTION_MS } from "../../src/store/cleanProcessedClusterMessages.ts"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { SqlLive } from "../../src/database/Database.ts"
import { createTestDatabase } from "../support/database.ts"

/** The engine's message janitor on the engine's own tables (docs/operations.md §7.4). */
describe("cluster message janitor", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>
  let client: pg.Client

  beforeAll(async () => {
    db = await createTestDatabase()
    const sqlLayer = SqlLive.pipe(Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) })))
    // The engine's message storage creates its tables when built.
    const layer = Layer.provideMerge(Layer.discard(SqlMessageStorage.layer), sqlLayer).pipe(Layer.provide(ShardingConfig.layer()))
    runtime = ManagedRuntime.make(layer)
    await runtime.runtime()
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
  })

  afterAll(async () => {
    await client?.end()
    await runtime?.dispose()
    await db?.drop()
  })

  let sequence = 0
  /** A message (and a reply to it) whose Snowflake id dates from `ageMs` ago. */
  const message = async (ageMs: number, processed: boolean) => {
    sequence += 1
    const id = Snowflake.make({ timestamp: Date.now() - ageMs, machineId: MachineId.make(7), sequence }).toString()
    const replyId = Snowflake.make({ timestamp: Date.now() - ageMs, machineId: MachineId.make(8), sequence }).toString()
    await client.query(
      `insert into cluster_messages (id, message_id, shard_id, entity_type, entity_id, kind, tag, payload, processed, request_id)
       values ($1, null, 'default:1', 'Gateway', 'g', 0, 'Send', '{}', $2, $1)`,
      [id, processed]
    )
    await client.query(`insert into cluster_replies (id, kind, request_id, payload) values ($1, 1, $2, '{}')`, [replyId, id])
    return id
  }
  const remaining = async (table: string, column: string, ids: ReadonlyArray<string>) =>
    (await client.query<{ id: string }>(`select ${column}::text as id from ${table} where ${column} = any($1::bigint[]) order by 1`, [ids])).rows.map((row) => row.id).sort()

  it("deletes processed messages older than a day and their replies; keeps unprocessed ones and recent ones", async () => {
    const day = CLUSTER_MESSAGE_RETENTION_MS
    const oldDone = [await message(day + 60_000, true), await message(3 * day, true)]
    const oldPending = await message(2 * day, false)
    const recentDone = await message(day - 60_000, true)
    const all = [...oldDone, oldPending, recentDone]

    const counts = await runtime.runPromise(cleanProcessedClusterMessages())

    expect(counts).toEqual({ messages: 2, replies: 2 })
    expect(await remaining("cluster_messages", "id", all)).toEqual([oldPending, recentDone].sort())
    expect(await remaining("cluster_replies", "request_id", all)).toEqual([oldPending, recentDone].sort())
    // A second pass finds nothing more to delete.
    expect(await runtime.runPromise(cleanProcessedClusterMessages())).toEqual({ messages: 0, replies: 0 })
  })

  it("keeps the replies of a request that still has an unprocessed message", async () => {
    const request = await message(2 * CLUSTER_MESSAGE_RETENTION_MS, true)
    // An unprocessed ack of the same request (another message row, same request id).
    const ackId = Snowflake.make({ timestamp: Date.now() - 2 * CLUSTER_MESSAGE_RETENTION_MS, machineId: MachineId.make(9), sequence: 1 }).toString()
    await client.query(
      `insert into cluster_messages (id, shard_id, entity_type, entity_id, kind, processed, request_id) values ($1, 'default:1', 'Gateway', 'g', 1, false, $2)`,
      [ackId, request]
    )

    await runtime.runPromise(cleanProcessedClusterMessages())

    expect(await remaining("cluster_messages", "request_id", [request])).toEqual([request])
    expect(await remaining("cluster_replies", "request_id", [request])).toEqual([request])
  })
})
