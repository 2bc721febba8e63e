import { describe, expect, it } from "vitest"
import { IdempotencyConflict } from "../../src/messages/IdempotencyConflict.ts"

/**
 * One class for every replayed idempotency key (docs/architecture.md §7.3); each check that
 * refuses one keeps the answer it gave when it had a class of its own.
 */
describe("IdempotencyConflict", () => {
  it("says it in the terms of the check that refused the key", () => {
    expect(new IdempotencyConflict({ idempotencyKey: "k1", refusedBy: "ledger", existingId: "m1" }).message).toBe(
      'idempotency key "k1" was already used for a different message (m1); use a new key to send another'
    )
    expect(new IdempotencyConflict({ idempotencyKey: "k1", refusedBy: "gateway" }).message).toBe("idempotency key k1 was already used for a different message; use a new key to send again")
    expect(new IdempotencyConflict({ idempotencyKey: "k1", refusedBy: "inbox" }).message).toBe('idempotency_key "k1" was already used for a different message')
  })
})
