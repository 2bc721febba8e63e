import { Data } from "effect"

/** No message with this id (HTTP 404). */
export class MessageNotFound extends Data.TaggedError("MessageNotFound")<{ readonly messageId: string }> {}

/** The target agent does not exist or is deleted: nothing is recorded (HTTP 404/422 by caller). */
export class MessageTargetNotFound extends Data.TaggedError("MessageTargetNotFound")<{ readonly agentId: string }> {
  override get message(): string {
    return `agent ${this.agentId} does not exist or is deleted`
  }
}

/**
 * Why a gateway delivery ended without `chat.send` succeeding, besides a gateway error: the
 * target was deleted meanwhile (`gone`) or was never provisioned on its gateway in time
 * (`not_ready`, with its state). Stored as the message's `last_error`.
 */
export class MessageTargetUnavailable extends Data.TaggedError("MessageTargetUnavailable")<{
  readonly agentId: string
  readonly reason: "gone" | "not_ready"
  readonly message: string
}> {}
