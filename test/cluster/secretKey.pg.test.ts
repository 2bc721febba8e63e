import { Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase } from "../support/database.ts"
import { startInProcessService } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

// Every instance of a cluster must hold the same SWITCHYARD_SECRET_KEY (docs/operations.md "Cluster").
describe("an instance whose secret key cannot open the stored gateway secrets", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let simulator: GatewaySimulator
  const otherKey = Buffer.alloc(32, 9).toString("base64")

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
  })
  afterAll(async () => {
    await simulator?.stop()
    await db?.drop()
  })

  it("refuses to start, saying why, with no secret in the message; the right key still starts", async () => {
    const first = await startInProcessService(db.url)
    const gateway = await first.api("POST", "/api/v1/gateways", { name: "Sim", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status).toBe(201)
    await first.stop()

    const refused = await startInProcessService(db.url, { secretKey: Option.some(Redacted.make(otherKey)) }).then(
      async (service) => {
        await service.stop()
        return undefined
      },
      (error: unknown) => error
    )
    const message = String(refused instanceof Error ? refused.message : JSON.stringify(refused))
    expect(message).toContain("SWITCHYARD_SECRET_KEY cannot decrypt the gateway secrets")
    expect(message).not.toContain(otherKey)
    expect(message).not.toContain(simulator.token)

    const again = await startInProcessService(db.url)
    expect((await again.api("GET", `/api/v1/gateways/${gateway.body.id}`)).status).toBe(200)
    await again.stop()
  })
})
