import { Data, Effect, Equal, Schedule } from "effect"
import type { HeartbeatConfig } from "../../../machines/agent/agentTypes.ts"
import { GatewayClient, type GatewayTarget } from "../../gateway/GatewayClient.ts"
import { gatewayCall } from "./gatewayCall.ts"

const currentHeartbeat = (config: Record<string, unknown> | null | undefined, agentId: string): unknown => {
  const agents = config?.["agents"]
  if (typeof agents !== "object" || agents === null || !("entries" in agents)) return undefined
  const entries = agents.entries
  if (typeof entries !== "object" || entries === null || !(agentId in entries)) return undefined
  const entry = (entries as Record<string, unknown>)[agentId]
  return typeof entry === "object" && entry !== null && "heartbeat" in entry ? entry.heartbeat : undefined
}

const sameHeartbeat = (current: unknown, wanted: HeartbeatConfig) =>
  typeof current === "object" &&
  current !== null &&
  Equal.equals(Data.struct({ every: (current as HeartbeatConfig).every, target: (current as HeartbeatConfig).target }), Data.struct({ ...wanted }))

/**
 * Sets `agents.entries.<id>.heartbeat` with `config.patch` and the `baseHash` from
 * `config.get` (gateway protocol §5). Skipped when the gateway already has it: every patch
 * counts against the gateway's write limit and may restart it (Mission Control #317). Writes
 * are serialised per gateway; a stale hash (`config_conflict`: any `agents.create` changes the
 * hash) re-reads and re-applies, up to 8 times with jitter. Returns whether it patched.
 */
export const pushHeartbeatConfig = Effect.fn("Agents.pushHeartbeatConfig")(function* (
  target: GatewayTarget,
  gatewayAgentId: string,
  heartbeat: HeartbeatConfig
) {
  const attempt = Effect.gen(function* () {
    const config = yield* gatewayCall(target, "config.get", {})
    if (sameHeartbeat(currentHeartbeat(config.config ?? config.parsed, gatewayAgentId), heartbeat)) return false
    const raw = JSON.stringify({ agents: { entries: { [gatewayAgentId]: { heartbeat } } } })
    yield* gatewayCall(target, "config.patch", { raw, baseHash: config.hash, note: `switchyard: heartbeat for ${gatewayAgentId}` })
    return true
  })
  const client = yield* GatewayClient
  return yield* client.withConfigLock(target.id, attempt).pipe(
    Effect.retry({
      schedule: Schedule.jittered(Schedule.spaced("100 millis")),
      times: 8,
      while: (error) => error._tag === "GatewayRpcError" && error.kind === "config_conflict"
    })
  )
})
