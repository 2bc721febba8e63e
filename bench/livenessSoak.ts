/**
 * An idle soak on a real OpenClaw gateway (no model credentials), the liveness watchers on with
 * their production periods: 5 agents with LLM heartbeats off (`0m`), one with the default (`1h`)
 * and one with `1m`, each brought online by one curl-back and then left alone. Prints the
 * false-offline count (samples every 5 s in which a `0m` or default agent was not online; goal 0),
 * the heartbeat runs the gateway reported and the heartbeat turns per agent-hour, and where the
 * `1m` agent ended (its heartbeat runs fail without model credentials).
 * `--minutes N` (default 10).
 */
import { TEST_ADMIN_TOKEN, registerGatewayAndBoard, startInProcessService } from "../test/support/inProcessService.ts"
import { createTestDatabase } from "../test/support/database.ts"
import { startOpenClawGateway } from "../test/support/openclawGateway.ts"
import { connectRaw } from "../test/support/rawGatewayClient.ts"
import { readAuthToken } from "../src/templates/readAuthToken.ts"

const minutesArg = process.argv.indexOf("--minutes")
const MINUTES = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10
const SAMPLE_MS = 5_000

export const livenessSoak = async () => {
  const gateway = await startOpenClawGateway()
  const db = await createTestDatabase()
  const service = await startInProcessService(db.url, {
    livenessWatchers: true,
    offlineFactor: 1.5,
    offlineAfterMs: 600_000,
    checkinTimeoutMs: 600_000
  })
  const raw = await connectRaw(gateway)
  try {
    const { gatewayId, boardId } = await registerGatewayAndBoard(service, gateway, "soak")
    const plan = [...Array.from({ length: 5 }, (_, i) => ({ name: `idle-${i}`, every: "0m" })), { name: "default", every: undefined }, { name: "minutely", every: "1m" }]
    const agents: Array<{ id: string; name: string; every: string | undefined }> = []
    for (const { name, every } of plan) {
      const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=120000", {
        name,
        board_id: boardId,
        ...(every === undefined ? {} : { heartbeat_config: { every } })
      })
      if (created.status !== 201) throw new Error(`${name}: ${created.status} ${JSON.stringify(created.body)}`)
      const file = (await raw.call("agents.files.get", { agentId: created.body.gateway_agent_id, name: "AGENTS.md" })).payload as { file: { content?: string } }
      const token = readAuthToken(file.file.content ?? "") ?? ""
      await fetch(`${service.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token } })
      agents.push({ id: created.body.id, name, every })
    }
    const watched = agents.filter((agent) => agent.every !== "1m")
    let samples = 0
    let falseOffline = 0
    const reasons = new Map<string, number>()
    const started = Date.now()
    while (Date.now() - started < MINUTES * 60_000) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS))
      for (const agent of watched) {
        const view = (await service.api("GET", `/api/v1/agents/${agent.id}`)).body
        samples += 1
        if (view.status !== "online") {
          falseOffline += 1
          reasons.set(view.offline_reason ?? view.state, (reasons.get(view.offline_reason ?? view.state) ?? 0) + 1)
        }
      }
    }
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text()
    const runs = /switchyard_llm_heartbeat_runs_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? "0"
    const status = (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body
    const minutely = (await service.api("GET", `/api/v1/agents/${agents.at(-1)!.id}`)).body
    console.log(`liveness soak: ${MINUTES} min idle on a real OpenClaw gateway, ${agents.length} agents (5 × 0m, 1 × default 1h, 1 × 1m)`)
    console.log(`  false-offline samples (0m and default agents, every ${SAMPLE_MS / 1000} s): ${falseOffline} of ${samples}${reasons.size > 0 ? ` ${JSON.stringify([...reasons])}` : ""}`)
    console.log(`  heartbeat runs reported by the gateway: ${runs}; turns per agent-hour (gateway): ${status.heartbeat_turns_per_agent_hour}`)
    console.log(`  the 1m agent: ${minutely.status} (${minutely.offline_reason ?? "no reason"}), last run ${JSON.stringify(minutely.liveness?.last_run)}`)
    console.log(`  gateway: reachable ${status.reachable}, degraded ${JSON.stringify(status.degraded)}, orphans ${JSON.stringify(status.orphans)}`)
  } finally {
    await raw.close()
    await service.stop()
    await db.drop()
    await gateway.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await livenessSoak()
