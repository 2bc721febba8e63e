import type { SqlError } from "@effect/sql/SqlError"
import { Context, type Effect } from "effect"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentExternalEvent, AgentRole, AgentSpec } from "../../machines/agent/agentTypes.ts"
import {
  AgentNotFound,
  BoardFull,
  AgentPersistTimeout,
  AgentsRestoring,
  AgentWaitTimeout,
  MachineVersionUnknown,
  SnapshotInvalid,
  type Readiness
} from "./AgentSystemErrors.ts"

export { AgentNotFound, AgentPersistTimeout, BoardFull, AgentsRestoring, AgentWaitTimeout, MachineVersionUnknown, SnapshotInvalid, type Readiness }

export interface NewAgentRequest {
  readonly agentId: string
  readonly gatewayId: string
  readonly boardId: string | null
  readonly role: AgentRole
  readonly spec: AgentSpec
  /** Refuse (BoardFull) when the board already has this many live workers: a lead's creates (docs/operations.md §6.2). */
  readonly workerCap?: number | undefined
  /**
   * Take over `gatewayAgentId`, which already exists on the gateway, instead of creating one
   * (docs/operations.md §6.2 "Adopt"): the actor gets that id and its session key.
   */
  readonly adopt?: { readonly gatewayAgentId: string; readonly keepFiles: boolean } | undefined
}

export interface AgentSystemShape {
  /**
   * Inserts the agent with its initial snapshot, then starts its actor (provisioning begins).
   * Errors: BoardFull (over `workerCap`; nothing inserted), SqlError (also when the gateway's
   * owner runner is unavailable: a 503 either way), AgentPersistTimeout.
   */
  readonly create: (request: NewAgentRequest) => Effect.Effect<AgentSnapshot, BoardFull | SqlError | AgentPersistTimeout>
  /**
   * Sends an event and completes once the snapshot it produced is persisted. Fails with
   * AgentsRestoring while actors are still being restored, or while the gateway's owner is
   * unavailable (no live owner yet, or it did not answer within 10 s; docs/operations.md "Cluster"), or
   * while the agent's actor restarts after a failure, the event that failed it included ("actor-restarting";
   * "actor-failed" past its restart budget, docs/architecture.md §6.8), AgentPersistTimeout when the
   * database does not take the snapshot within 15 s (the event stands and is saved later).
   */
  readonly send: (agentId: string, event: AgentExternalEvent) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentsRestoring | AgentPersistTimeout>
  /**
   * Waits until `predicate` holds for the agent's snapshot (then, unless `durable` is false,
   * until it is persisted), or `timeoutMs`. Another runner's agent is read from its persisted
   * snapshot, so it is durable either way. An actor that fails meanwhile answers AgentsRestoring
   * at once (docs/architecture.md §6.8).
   */
  readonly waitFor: (
    agentId: string,
    predicate: (snapshot: AgentSnapshot) => boolean,
    timeoutMs: number,
    options?: { readonly durable?: boolean }
  ) => Effect.Effect<AgentSnapshot, AgentNotFound | AgentsRestoring | AgentWaitTimeout | AgentPersistTimeout>
  /**
   * Restores every agent that is not deleted from its snapshot; in-flight work resumes. Each
   * row is restored on its own; if any cannot be, the rest still are, readiness says which
   * failed, and the first failure is returned.
   */
  readonly restoreAll: Effect.Effect<number, SqlError | MachineVersionUnknown | SnapshotInvalid>
  /** `ready` once `restoreAll` has finished; `failed` with the reason if it could not. */
  readonly readiness: Effect.Effect<Readiness>
  readonly snapshot: (agentId: string) => AgentSnapshot | undefined
  /** Succeeds when the agent's actor is running here (check it before writing anything for an event). */
  readonly requireActor: (agentId: string) => Effect.Effect<void, AgentNotFound | AgentsRestoring>
}

/**
 * The agent actors of the cluster, as every handler sees them: each call is routed to the runner
 * that owns the agent's gateway (this one: straight to its local actors; another: through the
 * cluster), so any instance serves any agent (docs/architecture.md "Cluster"). Implemented by
 * `src/cluster/RoutedAgentSystem.ts`; the actors themselves live in `LocalAgents`.
 */
export class AgentSystem extends Context.Tag("switchyard/AgentSystem")<AgentSystem, AgentSystemShape>() {}

