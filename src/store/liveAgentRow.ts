import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { StoredSnapshot } from "./AgentRepo.ts"

/**
 * One live (not deleted) agent's stored snapshot, for reloading its actor from the database
 * after a write found a newer version there (docs/architecture.md §11); none if it is deleted
 * or gone.
 */
export const liveAgentRow = (agentId: string): Effect.Effect<Option.Option<StoredSnapshot>, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<StoredSnapshot>`select id, snapshot, machine_version, version from agents where id = ${agentId} and deleted_at is null`
    return Option.fromNullable(rows[0])
  })
