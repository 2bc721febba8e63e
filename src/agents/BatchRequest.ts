import type { Deferred, Fiber } from "effect"
import type { z } from "zod"
import type { GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayError } from "../gateway/GatewayError.ts"
import type { HealthHeartbeat } from "../gateway/protocol.ts"
import type { AgentEntry } from "./writeConfigBatch.ts"

/** The heartbeat each agent of a gateway runs, by gateway agent id (`health {probe:true}`). */
export type Heartbeats = ReadonlyMap<string, z.infer<typeof HealthHeartbeat>>

/** A request's outcome: whether its entry changed, and the read-back sent beside its batch's `config.get`, if any. */
export interface Outcome {
  readonly changed: boolean
  readonly early: Fiber.Fiber<Heartbeats, GatewayError> | undefined
}

/** One agent's entry asked of the `AgentConfigBatcher` (docs/architecture.md §5.6). */
export interface BatchRequest {
  readonly gatewayAgentId: string
  readonly entry: AgentEntry
  readonly done: Deferred.Deferred<Outcome, GatewayError>
  /** Order of asking, per batcher: for one agent, the latest request's entry is written. */
  readonly seq: number
  /** Its apply has left (interrupted): it is answered already and never passed on or written. */
  withdrawn: boolean
  /** Passed on by a quick batch with its entry in the file: its agent exists, so it waits for no preparation (`holdForPreparing`). */
  prompt: boolean
}

/** A gateway's quick or full batch: the requests gathered, and whether its send is scheduled. */
export interface Batch {
  target: GatewayTarget
  requests: BatchRequest[]
  scheduled: boolean
  /** Done when a `prompt` request joins: ends the batch's hold for preparing agents. */
  release: Deferred.Deferred<void> | undefined
}

/** The requests still waiting for an answer (a withdrawn one is answered already). */
export const openRequests = (requests: ReadonlyArray<BatchRequest>) => requests.filter((request) => !request.withdrawn)

/**
 * Takes a batch's requests to send: the open ones (withdrawn ones dropped), leaving the batch
 * empty, unscheduled and unheld, so the next request starts a new one (docs/architecture.md §5.6).
 */
export const takeOpen = (batch: Batch): ReadonlyArray<BatchRequest> => {
  const requests = openRequests(batch.requests)
  batch.requests = []
  batch.scheduled = false
  batch.release = undefined
  return requests
}
