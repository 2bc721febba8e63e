import { Data } from "effect"

/**
 * A snapshot write that was not saved and never will be: `stale`, the row holds an equal or
 * newer version (another runner wrote it: docs/architecture.md §11), or the row is gone;
 * `withdrawn`, its writer closed before the write was taken into a batch.
 */
export class SnapshotWriteRefused extends Data.TaggedError("SnapshotWriteRefused")<{
  readonly agentId: string
  readonly version: number
  readonly reason: "stale" | "withdrawn"
}> {}
