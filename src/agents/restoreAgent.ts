import { isDeepStrictEqual } from "node:util"
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
    // The row's own value, checked: the schema transforms nothing, so zod's output is a deep
    // copy of it, and a worse one to keep: zod builds a loose object key by key, which leaves
    // one with as many keys as the context in V8's slow dictionary mode (~800 bytes more per
    // agent for as long as its actor keeps the context).
    return row.snapshot as typeof decoded.data
  })

/** Whether a restored actor's time limits differ from the service's (then it is sent `system.policy`). */
export const policyChanged = (stored: Readonly<Record<string, unknown>>, current: AgentPolicy): boolean =>
  (Object.keys(current) as Array<keyof AgentPolicy>).some((key) => stored[key] !== current[key])

/** `value` as it reads back from jsonb: what JSON keeps (no `undefined`, no functions). */
const asJson = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)))

/**
 * Whether a restored actor's persisted snapshot is the one it was restored from, as stored
 * (jsonb: key order and `undefined` members do not count). Then restore needs no new version.
 */
export const sameSnapshot = (persisted: unknown, stored: unknown): boolean => isDeepStrictEqual(asJson(persisted), stored)
