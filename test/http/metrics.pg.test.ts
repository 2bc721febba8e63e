import { describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/** One sample line of the text format: name, optional labels, value (Go float syntax: `Nan` parses too). */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|nan|[+-]inf)$/i

const value = (text: string, series: string) => {
  const line = text.split("\n").find((row) => row.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/**
 * GET /metrics (docs/operations.md §3.2): after agents are provisioned on the simulator, with one gateway
 * error and one gateway restart on the way, every Switchyard family has samples.
 */
describe("GET /metrics (in-process service, simulated gateway)", () => {
  it("shows agents by state, RPC latency and errors, reconnects, config patches and event-to-persist latency", async () => {
    const db = await createTestDatabase()
    const simulator = await startGatewaySimulator({ latencyMs: 2 })
    const service = await startInProcessService(db.url, { checkinTimeoutMs: 600_000, retryBaseMs: 100 })
    try {
      const { api } = service
      const gateway = await api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
      expect(gateway.status).toBe(201)
      const board = await api("POST", "/api/v1/boards", { name: "Metrics", gateway_id: gateway.body.id })
      // The first create is refused as transient; the agent's apply is retried.
      simulator.inject({ method: "agents.create", error: { code: "UNAVAILABLE", message: "gateway busy", retryable: true } })
      for (const name of ["Ada", "Grace"]) {
        const created = await api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=20000", { name, board_id: board.body.id })
        expect(created.status).toBe(201)
      }
      await expect.poll(async () => (await api("GET", `/api/v1/agents?gateway_id=${gateway.body.id}`)).body.items.map((agent: { state: string }) => agent.state)).toEqual([
        "provisioning.awaiting",
        "provisioning.awaiting",
        "provisioning.awaiting"
      ])
      // A gateway restart: the socket closes with 1012 and the client reconnects by itself.
      simulator.closeAll(1012, "restart")
      const reconnects = `switchyard_gateway_reconnects_total{gateway_id="${gateway.body.id}"}`
      const scrape = async () => {
        const response = await fetch(`${service.url}/metrics`)
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
        return response.text()
      }
      await expect.poll(async () => value(await scrape(), reconnects), { timeout: 15_000 }).toBe(1)

      const text = await scrape()
      for (const line of text.split("\n").filter((row) => row !== "" && !row.startsWith("#"))) expect(line).toMatch(SAMPLE)
      expect(value(text, 'switchyard_agents{state="provisioning.awaiting"}')).toBe(3)
      // Every state of the machine is a series, 0 when no agent is in it.
      for (const state of ["online", "offline", "provisioning.failed", "deleting.removing", "updating.retrying"]) {
        expect(value(text, `switchyard_agents{state="${state}"}`)).toBe(0)
      }
      expect(text).not.toMatch(/switchyard_agents\{state="(provisioning|deleted)"\}/)
      expect(value(text, 'switchyard_gateway_rpc_duration_seconds_count{method="agents.create",outcome="ok"}')).toBe(3)
      expect(value(text, 'switchyard_gateway_rpc_duration_seconds_bucket{le="+Inf",method="agents.create",outcome="error"}')).toBe(1)
      expect(value(text, 'switchyard_gateway_rpc_errors_total{method="agents.create",code="UNAVAILABLE"}')).toBe(1)
      expect(value(text, "switchyard_gateway_config_patches_total")).toBeGreaterThanOrEqual(1)
      expect(value(text, "switchyard_gateway_config_patch_entries_sum")).toBe(3)
      // Each agent at least: created → applying → waking → awaiting, every snapshot saved.
      expect(value(text, "switchyard_agent_event_persist_seconds_count")).toBeGreaterThanOrEqual(9)
      // Node's own process metrics come with the registry.
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m)
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
      for (const family of ["agents", "gateway_rpc_duration_seconds", "gateway_rpc_errors_total", "gateway_reconnects_total", "gateway_config_patches_total", "agent_event_persist_seconds"]) {
        expect(text).toContain(`# HELP switchyard_${family} `)
      }
    } finally {
      await service.stop()
      await simulator.stop()
      await db.drop()
    }
  })
})
