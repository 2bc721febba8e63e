import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { LocalAgents } from "../../src/agents/LocalAgents.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { GatewayLiveness } from "../../src/liveness/GatewayLiveness.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"
import { expectSimulatorLetGo } from "./expectSimulatorLetGo.ts"

const PROBE_MS = 100
const POLL = { timeout: 20_000, interval: 50 }

// docs/architecture.md §11: a gateway deleted while its owner hosts it leaves nothing running
// there: no watcher, no socket to its old URL, no liveness status, no actors.
describe("a gateway deleted while its owner hosts it (one runner, simulator)", () => {
  it("stops its watcher, closes its socket, forgets its liveness status and hosts none of its actors", async () => {
    const config = { livenessWatchers: true, livenessProbeMs: PROBE_MS, reconcileMs: 60_000 }
    await withSimulatedStack({ boardName: "Gone", config }, async ({ service, simulator, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      const local = await service.runtime.runPromise(LocalAgents)
      expect(local.hosts(gatewayId)).toBe(true)
      expect((await service.api("DELETE", `/api/v1/gateways/${gatewayId}`)).status).toBe(202)
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}`)).status, POLL).toBe(404)

      await expectSimulatorLetGo(simulator, PROBE_MS, POLL)
      expect(await service.runtime.runPromise(Effect.flatMap(GatewayClient, (client) => client.connected))).not.toContain(gatewayId)
      expect(await service.runtime.runPromise(Effect.flatMap(GatewayLiveness, (registry) => registry.get(gatewayId)))).toBeUndefined()
      expect(local.hosts(gatewayId)).toBe(false)
      expect(local.actorCount()).toBe(0)
    })
  }, 60_000)

  // A Retire lost (its sender died, the owner was moving), with no watcher to end by itself:
  // the owner's own read of the stored gateways lets the gateway go.
  it("is let go by its owner's read of the stored gateways when no Retire came and no watcher runs", async () => {
    await withSimulatedStack({ boardName: "Lost", config: { livenessWatchers: false } }, async ({ service, simulator, gatewayId }) => {
      const local = await service.runtime.runPromise(LocalAgents)
      await expect.poll(() => local.hosts(gatewayId), POLL).toBe(true)
      await service.runtime.runPromise(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from agents where gateway_id = ${gatewayId}`.pipe(Effect.zipRight(sql`delete from gateways where id = ${gatewayId}`)))
      )
      await expect.poll(() => local.hosts(gatewayId), POLL).toBe(false)
      await expect.poll(() => simulator.openSockets, POLL).toBe(0)
      expect(local.actorCount()).toBe(0)
    })
  }, 60_000)

  // Entity ids are strings: an id spelt in uppercase must reach the same entity as the stored one.
  it("is found, read on its owner and deleted through an uppercase spelling of its id, with no twin hosted", async () => {
    const config = { livenessWatchers: true, livenessProbeMs: PROBE_MS, reconcileMs: 60_000 }
    await withSimulatedStack({ boardName: "Upper", config }, async ({ service, simulator, gatewayId }) => {
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}/liveness`)).body?.reachable, POLL).toBe(true)
      const local = await service.runtime.runPromise(LocalAgents)
      const upper = gatewayId.toUpperCase()
      const found = await service.api("GET", `/api/v1/gateways/${upper}`)
      expect(found.status).toBe(200)
      expect(found.body.id).toBe(gatewayId)
      expect((await service.api("GET", `/api/v1/gateways/${upper}/liveness`)).body?.reachable).toBe(true)
      expect(local.hostedGateways()).toEqual([gatewayId])
      expect((await service.api("DELETE", `/api/v1/gateways/${upper}`)).status).toBe(202)
      await expect.poll(async () => (await service.api("GET", `/api/v1/gateways/${gatewayId}`)).status, POLL).toBe(404)
      await expect.poll(() => local.hostedGateways(), POLL).toEqual([])
      await expect.poll(() => simulator.openSockets, POLL).toBe(0)
    })
  }, 60_000)
})
