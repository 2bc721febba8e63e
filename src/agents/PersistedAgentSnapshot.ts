import { z } from "zod"

/**
 * The shape a stored agent snapshot must have before XState may restore it (zod at every
 * edge). Only what restore and the read model rely on is checked; the rest is XState's own and
 * passes unchecked. Plain (stripping) objects: restore keeps the stored value itself, never
 * zod's output, so the output holds only the checked members (a loose object would copy every
 * member of every restored agent's context, for nothing).
 */
export const PersistedAgentSnapshot = z.object({
  status: z.enum(["active", "done", "error", "stopped"]),
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
  context: z.object({
    agentId: z.string(),
    gatewayId: z.string(),
    gatewayAgentId: z.string(),
    sessionKey: z.string(),
    spec: z.object({ name: z.string() }),
    policy: z.object({ offlineAfterMs: z.number() })
  })
})
export type PersistedAgentSnapshot = z.infer<typeof PersistedAgentSnapshot>
