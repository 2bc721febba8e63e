import { afterAll, describe, expect, it } from "vitest"
import { ownerIn, readCluster } from "../support/cluster/clusterView.ts"
import { registerGateway } from "../support/cluster/clusterFleet.ts"
import { poll } from "../support/cluster/poll.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * Two instances started at the same moment on an empty database (docs/operations.md "Cluster"):
 * migrations and the engine's table creation are serialised, so both come up and join.
 */
describe("two instances started together on an empty database", () => {
  let cluster: TestCluster | undefined
  let simulator: GatewaySimulator | undefined

  afterAll(async () => {
    await cluster?.close()
    await simulator?.stop()
  })

  it("both get ready, see each other, and agree on a gateway's owner", async () => {
    cluster = await startCluster({ together: true })
    const running = cluster
    const addresses = running.nodes.map((node) => node.runner).sort()
    for (const node of running.nodes) {
      const seen = await poll(async () => (await readCluster(running.service(node.index))).runners.map((runner) => runner.address).sort(), (found) => found.join() === addresses.join(), 20_000)
      expect(seen.value, `runners seen by node ${node.index}`).toEqual(addresses)
    }
    simulator = await startGatewaySimulator()
    const { gatewayId } = await registerGateway(running.service(1), simulator, "together")
    const owners = await poll(
      async () => Promise.all(running.nodes.map(async (node) => ownerIn(await readCluster(running.service(node.index)), gatewayId))),
      (found) => found[0] !== undefined && found.every((owner) => owner === found[0]),
      20_000
    )
    expect(owners.value?.[0]).toBeDefined()
    expect(new Set(owners.value)).toEqual(new Set([owners.value?.[0]]))
    expect(running.logs()).not.toMatch(/duplicate key value/)
  }, 120_000)
})
