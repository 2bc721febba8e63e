import { OWNER_TIMEOUT_MS } from "../../src/cluster/RoutedAgentSystem.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { heartbeat } from "../support/cluster/clusterFleet.ts"
import { ownedFleet, type OwnedFleet } from "../support/cluster/ownedFleet.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * While a gateway has no live owner, requests for its agents through another runner answer 503
 * with Retry-After (docs/operations.md "Cluster"), never a 500, never a hang; reads stay on the
 * read model and answer 200. A SIGKILLed runner's Postgres sessions close with it, and with them
 * its advisory shard locks, so its gateways move within seconds; the owner is SIGSTOPped here
 * instead (a hung runner): it keeps its sessions and so its locks, and no one can take over.
 */

const LOCK_EXPIRY_MS = 60_000
/** An answer slower than this counts as a hang (the survivor bounds its wait for an owner by OWNER_TIMEOUT_MS). */
const HANG_MS = OWNER_TIMEOUT_MS + 5_000

describe("requests while a gateway has no live owner (two runners, simulated gateway)", () => {
  let cluster: TestCluster
  let simulator: GatewaySimulator
  let fleet: OwnedFleet

  beforeAll(async () => {
    cluster = await startCluster({ shardLockExpirationMs: LOCK_EXPIRY_MS, env: { SWITCHYARD_OFFLINE_AFTER_MS: "600000", SWITCHYARD_CHECKIN_TIMEOUT_MS: "60000" } })
    simulator = await startGatewaySimulator()
    fleet = await ownedFleet(cluster, simulator, 2)
    cluster.freeze(fleet.owner.index)
  }, 120_000)

  afterAll(async () => {
    await cluster?.close()
    await simulator?.stop()
  })

  it("answers events for its agents 503 with Retry-After, in bounded time", async () => {
    const survivor = cluster.service(fleet.other.index)
    const [beat, other, rename] = await Promise.all([
      heartbeat(survivor.url, fleet.agents[0]!.token, HANG_MS),
      heartbeat(survivor.url, fleet.agents[1]!.token, HANG_MS),
      (async () => {
        const started = Date.now()
        const response = await fetch(`${survivor.url}/api/v1/agents/${fleet.agents[1]!.id}`, {
          method: "PATCH",
          headers: { authorization: `Bearer ${survivor.adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "renamed-in-the-window" }),
          signal: AbortSignal.timeout(HANG_MS)
        }).catch(() => undefined)
        return { status: response?.status ?? 0, retryAfter: response?.headers.get("retry-after") ?? null, body: await response?.text(), ms: Date.now() - started }
      })()
    ])
    for (const answer of [beat, other, rename]) {
      expect(answer.status, `answer ${JSON.stringify(answer)}\n${cluster.logs().slice(-3000)}`).toBe(503)
      expect(Number(answer.retryAfter), `Retry-After of ${JSON.stringify(answer)}`).toBeGreaterThan(0)
      expect(answer.ms).toBeLessThan(HANG_MS)
    }
    console.log(`[measure] answer while the gateway has no live owner: ${beat.status} after ${beat.ms} ms`)
  }, 60_000)

  it("still answers reads of its agents from the read model", async () => {
    const read = await cluster.service(fleet.other.index).api("GET", `/api/v1/agents/${fleet.agents[0]!.id}`)
    expect(read.status).toBe(200)
    expect(read.body.state).toBe("online")
  })
})
