import { Data } from "effect"
import { AGENT_MACHINE_VERSION } from "../../machines/agent/agentMachine.ts"

/** No actor for that agent in this process (unknown, or deleted). */
export class AgentNotFound extends Data.TaggedError("AgentNotFound")<{ readonly agentId: string }> {}

/** A board lead asked for a worker beyond its board's `max_agents` (checked under a per-board lock). */
export class BoardFull extends Data.TaggedError("BoardFull")<{ readonly boardId: string; readonly maxAgents: number }> {
  override get message() {
    return `board ${this.boardId} allows ${this.maxAgents} agent(s) besides its lead`
  }
}

/**
 * The agent's actor cannot be reached right now; ask again shortly (HTTP 503 with Retry-After).
 * `reason` "restoring": actors are still being restored after a start; "owner-unavailable": the
 * runner that owns the agent's gateway is gone or moving (its shard lock not yet expired) or did
 * not answer in time (docs/operations.md "Cluster"); "actor-restarting": the agent's actor failed
 * and is being restarted from its stored snapshot; "actor-failed": it failed past its restart
 * budget and stays stopped until its gateway is hosted again (docs/architecture.md §6.8).
 */
export class AgentsRestoring extends Data.TaggedError("AgentsRestoring")<{
  readonly agentId: string
  readonly reason?: "restoring" | "owner-unavailable" | "actor-restarting" | "actor-failed" | undefined
}> {
  /** Why the actor cannot be reached, in words for a recorded result (no field values). */
  get why(): string {
    switch (this.reason) {
      case "owner-unavailable":
        return "the runner that owns the agent's gateway is unavailable"
      case "actor-restarting":
        return "the agent's actor failed and is being restarted"
      case "actor-failed":
        return "the agent's actor failed past its restart budget and is stopped"
      default:
        return "agent actors are still being restored"
    }
  }
}

export class AgentWaitTimeout extends Data.TaggedError("AgentWaitTimeout")<{ readonly agentId: string; readonly timeoutMs: number; readonly statePath: string }> {}

/** The event was accepted but its snapshot is not in the database yet (database away); it will be. */
export class AgentPersistTimeout extends Data.TaggedError("AgentPersistTimeout")<{ readonly agentId: string; readonly timeoutMs: number }> {}

/** A stored snapshot was written by a machine version this build does not know: never guess. */
export class MachineVersionUnknown extends Data.TaggedError("MachineVersionUnknown")<{ readonly agentId: string; readonly version: string }> {
  override get message() {
    return `agent ${this.agentId} was persisted by agent machine version "${this.version}"; this build runs version "${AGENT_MACHINE_VERSION}"`
  }
}

/** A stored snapshot does not have the shape a restore needs. */
export class SnapshotInvalid extends Data.TaggedError("SnapshotInvalid")<{ readonly agentId: string; readonly reason: string }> {
  override get message() {
    return `agent ${this.agentId} has an unreadable snapshot: ${this.reason}`
  }
}

/** Restore progress, as `/readyz` reports it. */
export type Readiness = { readonly state: "restoring"; readonly reason?: string | undefined } | { readonly state: "ready" } | { readonly state: "failed"; readonly reason: string }
