import { OWNER_TIMEOUT_MS } from "../../src/cluster/RoutedAgentSystem.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { heartbeat, type HeartbeatAnswer } from "../support/cluster/clusterFleet.ts"
import { ownerIn, readCluster } from "../support/cluster/clusterView.ts"
import { ownedFleet, type OwnedFleet } from "../support/cluster/ownedFleet.ts"
import { poll } from "../support/cluster/poll.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * SIGKILL of the runner owning a gateway (docs/operations.md "Cluster"): its shard lock expires
 * after `LOCK_EXPIRY_MS`, then the survivor owns the gateway. Agent `beating` heartbeats through
 * the survivor from the kill on; agent `silent` stays quiet, so its offline deadline (set
 * before the kill, due after the move) must fire on the survivor.
 */

const LOCK_EXPIRY_MS = 5_000
const OFFLINE_AFTER_MS = 20_000
/** Slack for a busy two-core machine on top of the lock expiry (the activation loop, a restore). */
const MARGIN_MS = 15_000
/** A request the survivor has not answered in this long counts as hanging (it waits for an owner OWNER_TIMEOUT_MS at most). */
const HANG_MS = OWNER_TIMEOUT_MS + 5_000

describe("SIGKILL of the gateway's owner (two runners, simulated gateway)", () => {
  let cluster: TestCluster
  let simulator: GatewaySimulator
  let fleet: OwnedFleet
  let killedAt = 0
  let servedAt: number | undefined
  const answers: Array<HeartbeatAnswer & { at: number }> = []
  let silentAtTakeover: string | undefined

  beforeAll(async () => {
    cluster = await startCluster({ shardLockExpirationMs: LOCK_EXPIRY_MS, env: { SWITCHYARD_OFFLINE_AFTER_MS: String(OFFLINE_AFTER_MS), SWITCHYARD_OFFLINE_FACTOR: "0", SWITCHYARD_CHECKIN_TIMEOUT_MS: "60000" } })
    simulator = await startGatewaySimulator()
    fleet = await ownedFleet(cluster, simulator, 2)
    const survivor = cluster.service(fleet.other.index)
    const beating = fleet.agents[0]!
    killedAt = Date.now()
    await cluster.stop(fleet.owner.index, "SIGKILL")
    const served = await poll(
      async () => {
        const answer = await heartbeat(survivor.url, beating.token, HANG_MS)
        answers.push({ ...answer, at: Date.now() })
        return answer
      },
      (answer) => answer.status === 200,
      LOCK_EXPIRY_MS + MARGIN_MS,
      200
    )
    servedAt = served.acceptedAt
    silentAtTakeover = (await survivor.api("GET", `/api/v1/agents/${fleet.agents[1]!.id}`)).body?.state
    console.log(`[measure] takeover after SIGKILL (lock expiry ${LOCK_EXPIRY_MS} ms): ${servedAt === undefined ? "never" : `${servedAt - killedAt} ms`}`)
  }, 150_000)

  afterAll(async () => {
    await cluster?.close()
    await simulator?.stop()
  })

  it("the survivor serves the dead owner's agents within the lock expiry plus a margin", async () => {
    expect(servedAt, `no 200 from the survivor within ${LOCK_EXPIRY_MS + MARGIN_MS} ms; answers ${JSON.stringify(answers.map((a) => a.status))}\n${cluster.logs().slice(-6000)}`).toBeDefined()
    expect(servedAt! - killedAt).toBeLessThanOrEqual(LOCK_EXPIRY_MS + MARGIN_MS)
    const view = await readCluster(cluster.service(fleet.other.index))
    expect(ownerIn(view, fleet.gatewayId)).toBe(fleet.other.runner)
  })

  it("answers the survivor's requests meanwhile with 200 or 503 and Retry-After, never a 500 and never a hang", () => {
    // The lock expires before the owner timeout, so a request may be held until the takeover and
    // then served; noOwnerWindow.pg.test.ts covers a window longer than that timeout.
    for (const answer of answers) {
      expect([200, 503], `answer ${JSON.stringify(answer)}`).toContain(answer.status)
      if (answer.status === 503) expect(Number(answer.retryAfter), `Retry-After of ${JSON.stringify(answer)}`).toBeGreaterThan(0)
      expect(answer.ms).toBeLessThan(HANG_MS)
    }
  })

  it("fires the offline deadline of a silent agent after the move", async () => {
    expect(silentAtTakeover, "the silent agent was still online when the survivor took over").toBe("online")
    const survivor = cluster.service(fleet.other.index)
    const silent = fleet.agents[1]!
    const offline = await poll(() => survivor.api("GET", `/api/v1/agents/${silent.id}`), (read) => read.body?.state === "offline", OFFLINE_AFTER_MS + MARGIN_MS, 250)
    expect(offline.value?.body?.state, `silent agent on the survivor\n${cluster.logs().slice(-4000)}`).toBe("offline")
    // The agent that kept beating through the survivor stays online.
    expect((await heartbeat(survivor.url, fleet.agents[0]!.token)).body?.status).toBe("online")
  }, 90_000)
})
