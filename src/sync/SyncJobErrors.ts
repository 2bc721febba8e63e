import { Data } from "effect"

/** The gateway is being deleted: its agents are being removed, nothing is synced to it. */
export class SyncGatewayDeleting extends Data.TaggedError("SyncGatewayDeleting")<{ readonly gatewayId: string }> {}

/** `board_id` names no board of that gateway. */
export class SyncBoardNotFound extends Data.TaggedError("SyncBoardNotFound")<{ readonly gatewayId: string; readonly boardId: string }> {}

/** The gateway already has a queued or running sync job; `jobId` is that job (one sync per gateway at a time). */
export class SyncJobActive extends Data.TaggedError("SyncJobActive")<{ readonly gatewayId: string; readonly jobId: string }> {}

/** No sync job with that id for that gateway. */
export class SyncJobNotFound extends Data.TaggedError("SyncJobNotFound")<{ readonly gatewayId: string; readonly jobId: string }> {}
