/**
 * Provisions 10 agents at once through the HTTP API and prints: time from `POST /agents` to
 * the agent's files written and wake sent (`provisioning.awaiting`), WebSocket connections
 * opened, and gateway calls by method (config.patch among them).
 * Gateway: a real OpenClaw gateway (default) or the simulator (`--simulator`, 5 ms latency).
 */
import { createTestDatabase } from "../test/support/database.ts"
import { registerGatewayAndBoard, startInProcessService } from "../test/support/inProcessService.ts"
import { startOpenClawGateway } from "../test/support/openclawGateway.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { percentile } from "./common.ts"

const AGENTS = 10
const useSimulator = process.argv.includes("--simulator")

export const provisionTen = async () => {
  const gateway = useSimulator ? await startGatewaySimulator({ latencyMs: 5 }) : await startOpenClawGateway()
  const db = await createTestDatabase()
  const service = await startInProcessService(db.url, { checkinTimeoutMs: 600_000 })
  try {
    const { boardId } = await registerGatewayAndBoard(service, gateway, "bench")
    const started = Date.now()
    const timings = await Promise.all(
      Array.from({ length: AGENTS }, async (_, i) => {
        const t0 = Date.now()
        const created = await service.api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=120000", {
          name: `bench-${i}`,
          board_id: boardId
        })
        if (created.status !== 201) throw new Error(`agent ${i}: ${created.status} ${JSON.stringify(created.body)}`)
        return Date.now() - t0
      })
    )
    const total = Date.now() - started
    const stats = await service.gatewayStats()
    console.log(`provision ${AGENTS} agents at once against ${useSimulator ? "the simulator (5 ms latency)" : "a real OpenClaw gateway"}`)
    console.log(`  POST → files written and woken: p50 ${percentile(timings, 50)} ms, max ${Math.max(...timings)} ms, all ${total} ms`)
    console.log(`  WebSocket connections opened: ${stats.socketsOpened}`)
    console.log(`  config.patch calls: ${stats.calls["config.patch"] ?? 0}`)
    console.log(`  gateway calls by method: ${JSON.stringify(stats.calls)}`)
    const mean = Object.fromEntries(Object.entries(stats.totalMs).map(([method, ms]) => [method, Math.round(ms / (stats.calls[method] ?? 1))]))
    console.log(`  mean latency by method (ms): ${JSON.stringify(mean)}`)
  } finally {
    await service.stop()
    await db.drop()
    await gateway.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await provisionTen()
