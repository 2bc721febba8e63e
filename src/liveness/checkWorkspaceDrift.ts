import { Clock, Effect } from "effect"
import { fileHash } from "../agents/programs/recordManagedFiles.ts"
import { gatewayCall } from "../agents/programs/gatewayCall.ts"
import { loadGateway } from "../agents/programs/loadGateway.ts"
import type { GatewayTarget } from "../gateway/GatewayClient.ts"
import { describeGatewayError, isGatewayError } from "../gateway/GatewayError.ts"
import { type ManagedWorkspace, WorkspaceHashes } from "../store/WorkspaceHashes.ts"

/** Agents whose files are read at once (each reads its few managed files one by one). */
const AGENTS_IN_FLIGHT = 4
/** A check's calls are probes: a short timeout, never the lifecycle's. */
const PROBE_TIMEOUT_MS = 10_000

/** The managed files of one agent that differ from what we last wrote (a missing file differs), in name order. */
const driftedFiles = (target: GatewayTarget, agent: ManagedWorkspace) =>
  Effect.forEach(agent.files, (file) =>
    gatewayCall(target, "agents.files.get", { agentId: agent.gatewayAgentId, name: file.name }, { timeoutMs: PROBE_TIMEOUT_MS }).pipe(
      Effect.map(({ file: got }) => {
        if (got.missing === true) return [file.name]
        const hash = got.hash ?? (got.content === undefined ? undefined : fileHash(got.content))
        return hash?.toLowerCase() === file.sha256 ? [] : [file.name]
      })
    )
  ).pipe(Effect.map((names) => names.flat().sort()))

/**
 * One workspace-drift round for a gateway (docs/operations.md §8 "Workspace drift"): for every
 * live agent with managed files on record, reads each with `agents.files.get` and compares its
 * sha256 with what Switchyard last wrote, then stores the result (`checked_at`, `drifted`). An
 * agent whose files could not be read keeps its previous result, and a result that a write
 * overtook is dropped (the next round decides). Output: the agents checked. Errors: SqlError,
 * GatewayNotFound (the gateway record is gone).
 */
export const checkWorkspaceDrift = Effect.fn("Liveness.checkWorkspaceDrift")(function* (gatewayId: string) {
  const hashes = yield* WorkspaceHashes
  const agents = yield* hashes.managedOf(gatewayId)
  if (agents.length === 0) return 0
  const { target } = yield* loadGateway(gatewayId)
  const saved = yield* Effect.forEach(
    agents,
    (agent) =>
      driftedFiles(target, agent).pipe(
        Effect.flatMap((drifted) => Effect.flatMap(Clock.currentTimeMillis, (now) => hashes.saveCheck(agent.agentId, { checkedAt: new Date(now), drifted }, agent.writtenUpTo))),
        Effect.catchIf(isGatewayError, (error) =>
          Effect.as(Effect.logWarning(`workspace drift ${gatewayId}: ${agent.gatewayAgentId} not checked: ${describeGatewayError(error)}`), false)
        )
      ),
    { concurrency: AGENTS_IN_FLIGHT }
  )
  return saved.filter(Boolean).length
})
