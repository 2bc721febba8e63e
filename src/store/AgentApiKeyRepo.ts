import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"

export interface AgentApiKeyRepoShape {
  /**
   * Stores `keyHash` as the agent's one inbox key, replacing any earlier one (rotation); the
   * old key stops working in the same statement. `rotated` is false for the agent's first key.
   */
  readonly put: (agentId: string, keyHash: string) => Effect.Effect<{ readonly rotated: boolean; readonly createdAt: Date }, SqlError>
  /** The live agent whose key hashes to `keyHash`: O(1) through the unique index on `key_hash`. */
  readonly findAgentId: (keyHash: string) => Effect.Effect<Option.Option<string>, SqlError>
}

/** `agent_api_keys`: one sha256-hashed inbox key per agent (`X-Api-Key`); the key itself is never stored. */
export class AgentApiKeyRepo extends Context.Tag("switchyard/AgentApiKeyRepo")<AgentApiKeyRepo, AgentApiKeyRepoShape>() {}

export const AgentApiKeyRepoLive = Layer.effect(
  AgentApiKeyRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return AgentApiKeyRepo.of({
      put: (agentId, keyHash) =>
        // `xmax = 0` only on a freshly inserted row: an update of the existing key sets it.
        sql<{ createdAt: Date; inserted: boolean }>`
          insert into agent_api_keys (agent_id, key_hash) values (${agentId}, ${keyHash})
          on conflict (agent_id) do update set key_hash = excluded.key_hash, created_at = now()
          returning created_at, (xmax = 0) as inserted`.pipe(
          Effect.map(([row]) => ({ rotated: row?.inserted !== true, createdAt: row?.createdAt ?? new Date() }))
        ),
      findAgentId: (keyHash) =>
        sql<{ agentId: string }>`
          select k.agent_id from agent_api_keys k join agents a on a.id = k.agent_id and a.deleted_at is null
          where k.key_hash = ${keyHash}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.agentId)))
    })
  })
)
