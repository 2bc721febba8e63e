import { z } from "zod"

/**
 * The shape a stored agent snapshot must have before XState may restore it (zod at every
 * edge). Only what restore and the read model rely on is checked; the rest is XState's own.
 */
export const PersistedAgentSnapshot = z.looseObject({
  status: z.enum(["active", "done", "error", "stopped"]),
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
  context: z.looseObject({
    agentId: z.string(),
    gatewayId: z.string(),
    gatewayAgentId: z.string(),
    sessionKey: z.string(),
    spec: z.looseObject({ name: z.string() }),
    policy: z.looseObject({ offlineAfterMs: z.number() })
  })
})
