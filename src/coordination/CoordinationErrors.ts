import { Data } from "effect"

/**
 * A coordination request refused before anything was sent or written, handled alike (an HTTP
 * status each): `forbidden` (the caller's role or board does not allow it, 403), `not_found`
 * (404), `invalid` (bad input or a missing precondition such as a gateway without a main agent,
 * 422), `conflict` (409). `detail` says why, for the agent reading the answer.
 */
export class CoordinationRefused extends Data.TaggedError("CoordinationRefused")<{
  readonly reason: "forbidden" | "not_found" | "invalid" | "conflict"
  readonly detail: string
}> {
  override get message(): string {
    return this.detail
  }
}

export const forbidden = (detail: string) => new CoordinationRefused({ reason: "forbidden", detail })
export const notFound = (what: string) => new CoordinationRefused({ reason: "not_found", detail: `${what} not found` })
export const invalid = (detail: string) => new CoordinationRefused({ reason: "invalid", detail })

/** The gateway did not answer `agents.files.get` for SOUL.md (HTTP 502, docs/operations.md §6.12). */
export class SoulReadFailed extends Data.TaggedError("SoulReadFailed")<{ readonly agentId: string; readonly reason: string }> {
  override get message(): string {
    return `gateway SOUL.md read failed: ${this.reason}`
  }
}
