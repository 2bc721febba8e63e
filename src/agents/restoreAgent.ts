import { Effect } from "effect"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { AGENT_MACHINE_VERSION } from "../../machines/agent/agentMachine.ts"
import type { StoredSnapshot } from "../store/AgentRepo.ts"
import { MachineVersionUnknown, SnapshotInvalid } from "./AgentSystemErrors.ts"
import { PersistedAgentSnapshot } from "./PersistedAgentSnapshot.ts"

/**
 * The snapshot a stored row restores from: its machine version must be this build's (an
 * unknown one is a loud error, never a guess) and its shape must decode.
 * Errors: MachineVersionUnknown, SnapshotInvalid.
 */
export const restorableSnapshot = (row: StoredSnapshot) =>
  Effect.gen(function* () {
    if (row.machineVersion !== AGENT_MACHINE_VERSION) {
      return yield* new MachineVersionUnknown({ agentId: row.id, version: row.machineVersion })
    }
    const decoded = PersistedAgentSnapshot.safeParse(row.snapshot)
    if (!decoded.success) {
      return yield* new SnapshotInvalid({ agentId: row.id, reason: decoded.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ") })
    }
    return decoded.data
  })

/** Whether a restored actor's time limits differ from the service's (then it is sent `system.policy`). */
export const policyChanged = (stored: Readonly<Record<string, unknown>>, current: AgentPolicy): boolean =>
  (Object.keys(current) as Array<keyof AgentPolicy>).some((key) => stored[key] !== current[key])
