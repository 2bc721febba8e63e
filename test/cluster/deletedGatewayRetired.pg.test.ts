import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { GatewayLiveness } from "../../src/liveness/GatewayLiveness.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

const PROBE_MS = 100
const POLL = { timeout: 20_000, interval: 50 }

// docs/architecture.md §11: a gateway deleted while its owner hosts it leaves nothing running
// there: no watcher, no socket to its old URL, no liveness status, no actors.
describe("a gateway deleted while its owner hosts it (one runner, simulator)", () => {
  it("stops its watcher, closes its socket and forgets its liveness status", async () => {
    const config = { livenessWatchers: true, livenessProbeMs: PROBE_MS, reconcileMs: 60_000 }
    await withSimulatedStack({ boardName: "Gone", config }, async ({ service, simulator, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      expect((await service.api("DELETE", `/api/v1/gateways/${gatewayId}`)).status).toBe(202)
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}`)).status, POLL).toBe(404)

      await expect.poll(() => simulator.openSockets, POLL).toBe(0)
      const status = await service.runtime.runPromise(Effect.flatMap(GatewayLiveness, (registry) => registry.get(gatewayId)))
      expect(status).toBeUndefined()
      expect((await service.runtime.runPromise(LocalAgents)).hosts(gatewayId)).toBe(false)
      // Twenty probe periods: a watcher still running would probe (and reopen the socket) on each.
      const calls = simulator.calls.length
      const opened = simulator.connectionsOpened
      await new Promise((resolve) => setTimeout(resolve, 20 * PROBE_MS))
      expect(simulator.calls.slice(calls).map((call) => call.method)).toEqual([])
      expect(simulator.connectionsOpened).toBe(opened)
    })
  })

  it("a watcher whose owner missed the deletion ends at its next read of the gateway, and the gateway is let go", async () => {
    const config = { livenessWatchers: true, livenessProbeMs: PROBE_MS, reconcileMs: 60_000 }
    await withSimulatedStack({ boardName: "Missed", config }, async ({ service, simulator, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      // The row goes behind the owner's back (as when its Retire is lost); the socket then drops.
      await service.runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from gateways where id = ${gatewayId}`))
      simulator.closeAll(1012, "restart")

      await expect.poll(async () => service.runtime.runPromise(Effect.flatMap(GatewayLiveness, (registry) => registry.get(gatewayId))), POLL).toBeUndefined()
      expect(simulator.openSockets).toBe(0)
      const calls = simulator.calls.length
      const opened = simulator.connectionsOpened
      await new Promise((resolve) => setTimeout(resolve, 20 * PROBE_MS))
      expect(simulator.calls.slice(calls).map((call) => call.method)).toEqual([])
      expect(simulator.connectionsOpened).toBe(opened)
    })
  })
})
