import { canonicalSessionKey } from "./sessionMethods.ts"

/**
 * The distinct `chat.send` idempotency keys among `calls` whose session belongs to gateway agent
 * `agentId`, first arrival first. A replay of one key (a retried or repeated wake) counts once;
 * a second wake or message has a key of its own.
 */
export function chatSendKeys(calls: ReadonlyArray<{ method: string; params: unknown }>, agentId: string): Array<string> {
  const keys = new Set<string>()
  for (const call of calls) {
    if (call.method !== "chat.send" || typeof call.params !== "object" || call.params === null) continue
    const params = call.params as { sessionKey?: unknown; idempotencyKey?: unknown }
    if (typeof params.sessionKey !== "string" || typeof params.idempotencyKey !== "string") continue
    if (canonicalSessionKey(params.sessionKey).agentId === agentId.toLowerCase()) keys.add(params.idempotencyKey)
  }
  return [...keys]
}
