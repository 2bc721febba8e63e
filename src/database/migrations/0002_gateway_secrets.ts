import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Gateway secrets at rest (docs/operations.md §1.1): the shared token, the device identity (Ed25519 key)
 * and the device token the gateway issues after pairing, each sealed by `SecretBox`
 * (`v1:<iv>:<tag>:<ciphertext>`). SQL cannot encrypt the existing plaintext `token`, so it
 * becomes nullable and `GatewayRepo` moves it into `token_encrypted` when it first reads the row.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table gateways alter column token drop not null`
  yield* sql`
    alter table gateways
      add column if not exists token_encrypted text,
      add column if not exists device_identity_encrypted text,
      add column if not exists device_token_encrypted text`
})
