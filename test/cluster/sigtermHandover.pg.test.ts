import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { heartbeat, type HeartbeatAnswer } from "../support/cluster/clusterFleet.ts"
import { ownerIn, readCluster } from "../support/cluster/clusterView.ts"
import { ownedFleet, type OwnedFleet } from "../support/cluster/ownedFleet.ts"
import { poll } from "../support/cluster/poll.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * SIGTERM of the runner owning a gateway (docs/operations.md "Cluster"): it drains, saves its
 * agents' last snapshots and releases its shards, so the survivor serves in under 5 s. The lock
 * expiry is long here (60 s): a handover that fast can only come from the release.
 */

const LOCK_EXPIRY_MS = 60_000
const HANDOVER_BOUND_MS = 5_000

describe("SIGTERM of the gateway's owner (two runners, simulated gateway)", () => {
  let cluster: TestCluster
  let simulator: GatewaySimulator
  let fleet: OwnedFleet
  let handoverMs: number | undefined
  const answers: Array<HeartbeatAnswer> = []
  let versionBefore = 0

  beforeAll(async () => {
    cluster = await startCluster({ shardLockExpirationMs: LOCK_EXPIRY_MS, env: { SWITCHYARD_OFFLINE_AFTER_MS: "600000", SWITCHYARD_CHECKIN_TIMEOUT_MS: "60000" } })
    simulator = await startGatewaySimulator()
    fleet = await ownedFleet(cluster, simulator, 2)
    const survivor = cluster.service(fleet.other.index)
    const agent = fleet.agents[0]!
    versionBefore = Number((await heartbeat(cluster.service(fleet.owner.index).url, agent.token)).body?.version ?? 0)
    const termAt = Date.now()
    const stopped = cluster.stop(fleet.owner.index, "SIGTERM")
    const served = await poll(
      async () => {
        const answer = await heartbeat(survivor.url, agent.token)
        answers.push(answer)
        return answer.status === 200 ? ownerIn(await readCluster(survivor), fleet.gatewayId) : undefined
      },
      (owner) => owner === fleet.other.runner,
      LOCK_EXPIRY_MS / 2,
      100
    )
    handoverMs = served.acceptedAt === undefined ? undefined : served.acceptedAt - termAt
    await stopped
    console.log(`[measure] handover after SIGTERM: ${handoverMs === undefined ? "never" : `${handoverMs} ms`}`)
  }, 150_000)

  afterAll(async () => {
    await cluster?.close()
    await simulator?.stop()
  })

  it("hands the gateway over to the survivor in under 5 s", () => {
    expect(handoverMs, `survivor answers ${JSON.stringify(answers.map((a) => a.status))}\n${cluster.logs().slice(-6000)}`).toBeDefined()
    expect(handoverMs!).toBeLessThan(HANDOVER_BOUND_MS)
  })

  it("answers 200 or 503 with Retry-After meanwhile, never a 500", () => {
    for (const answer of answers) {
      expect([200, 503], JSON.stringify(answer)).toContain(answer.status)
      if (answer.status === 503) expect(Number(answer.retryAfter)).toBeGreaterThan(0)
    }
  })

  it("keeps the drained agents' state: online, no version lost", async () => {
    const survivor = cluster.service(fleet.other.index)
    for (const agent of fleet.agents) {
      const read = await survivor.api("GET", `/api/v1/agents/${agent.id}`)
      expect(read.body?.state, agent.id).toBe("online")
    }
    expect(Number((await survivor.api("GET", `/api/v1/agents/${fleet.agents[0]!.id}`)).body?.version)).toBeGreaterThan(versionBefore)
  })
})
