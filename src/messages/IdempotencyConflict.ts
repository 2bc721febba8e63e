import { Data } from "effect"

/**
 * An idempotency key replayed with a different message: nothing is sent, the first message
 * stands (HTTP 409; docs/operations.md §6.12). `refusedBy` says which check saw the key first,
 * and the message says it in that caller's terms:
 * - `ledger`: the message ledger (`existingId` is the first message);
 * - `gateway`: the gateway's own `chat.send` dedupe (`details.reason: "chat-request-conflict"`,
 *   docs/gateway-protocol.md §5), for a message sent straight to a session;
 * - `inbox`: an inbox send, whose clients name the key in the body field `idempotency_key`.
 */
export class IdempotencyConflict extends Data.TaggedError("IdempotencyConflict")<{
  readonly idempotencyKey: string
  readonly refusedBy: "ledger" | "gateway" | "inbox"
  readonly existingId?: string | undefined
}> {
  override get message(): string {
    switch (this.refusedBy) {
      case "ledger":
        return `idempotency key "${this.idempotencyKey}" was already used for a different message (${this.existingId ?? "unknown"}); use a new key to send another`
      case "gateway":
        return `idempotency key ${this.idempotencyKey} was already used for a different message; use a new key to send again`
      case "inbox":
        return `idempotency_key "${this.idempotencyKey}" was already used for a different message`
    }
  }
}
