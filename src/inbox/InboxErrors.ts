import { Data } from "effect"

/** The message does not exist, or is not in the caller's inbox (never says which). */
export class InboxMessageNotFound extends Data.TaggedError("InboxMessageNotFound")<{ readonly messageId: string }> {}

/**
 * A report the message cannot take: it was already reported with a different result
 * (`result_mismatch`, docs/operations.md §6.16), or it was given up as failed.
 */
export class InboxReportConflict extends Data.TaggedError("InboxReportConflict")<{
  readonly messageId: string
  readonly reason: "result_mismatch" | "failed"
}> {}

/** No agent with exactly that name (ignoring case) among the sender's contacts. */
export class InboxContactNotFound extends Data.TaggedError("InboxContactNotFound")<{ readonly name: string; readonly scope: "board" | "gateway" | "none" }> {}
