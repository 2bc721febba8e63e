import { z } from "zod"
import { HealthResult } from "./protocol.ts"

/**
 * Payloads of the pushed events that carry liveness (docs/gateway-protocol.md §6, §9), as observed
 * on 2026.9.6: only the fields read are declared, every object is loose.
 */

/** `agent`: one frame of a run; `stream` `lifecycle` carries its phases (`error` ends it failed, `end` ends it well). */
export const AgentEventPayload = z.looseObject({
  runId: z.string(),
  stream: z.string(),
  agentId: z.string().optional(),
  sessionKey: z.string().optional(),
  ts: z.number().optional(),
  isHeartbeat: z.boolean().optional(),
  data: z
    .looseObject({
      phase: z.string().optional(),
      error: z.string().optional(),
      fallbackStepFromFailureDetail: z.string().optional()
    })
    .optional()
})
export type AgentEventPayload = z.infer<typeof AgentEventPayload>

/** `sessions.changed`: `{sessionKey, agentId, reason, session}`. */
export const SessionsChangedPayload = z.looseObject({
  sessionKey: z.string(),
  agentId: z.string().optional(),
  reason: z.string().optional(),
  ts: z.number().optional()
})

/** `heartbeat`: a heartbeat runner outcome (`status` sent, ok-token, skipped, failed …); the agent when it names one. */
export const HeartbeatEventPayload = z.looseObject({
  ts: z.number().optional(),
  status: z.string().optional(),
  agentId: z.string().optional(),
  sessionKey: z.string().optional()
})

/** `health`: the same payload as the RPC. */
export const HealthEventPayload = HealthResult

/** The agent id of a session key `agent:<agentId>:<rest>`, if it is one. */
export const agentIdOfSessionKey = (sessionKey: string | undefined): string | undefined => {
  const match = sessionKey === undefined ? null : /^agent:([^:]+):/.exec(sessionKey)
  return match?.[1]
}
