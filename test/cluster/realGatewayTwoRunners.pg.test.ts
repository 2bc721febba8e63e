import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createAgent, heartbeat, registerGateway } from "../support/cluster/clusterFleet.ts"
import { ownerIn, readCluster } from "../support/cluster/clusterView.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import type { RawConnection } from "../support/rawGatewayClient.ts"
import { reconnectingReads } from "../support/reconnectingReads.ts"
import { retryingRestarts } from "../support/simulator/conformanceSupport.ts"

const gateway = inject("realGateway")

/**
 * The main case of issue 14 against a real OpenClaw gateway: two runners on one database manage
 * it as one system. The agent is created through runner B and heartbeats through runner A.
 */
describe.skipIf(gateway === null)("two runners and one real OpenClaw gateway", () => {
  let cluster: TestCluster
  let raw: RawConnection

  beforeAll(async () => {
    cluster = await startCluster({ env: { SWITCHYARD_CHECKIN_TIMEOUT_MS: "120000", SWITCHYARD_OFFLINE_AFTER_MS: "600000" } })
    // Its reads survive a gateway restart and its refusals while restarting (docs/gateway-protocol.md §9: under load a config write can restart it).
    raw = retryingRestarts(await reconnectingReads(gateway!))
  }, 120_000)

  afterAll(async () => {
    await raw?.close()
    await cluster?.close()
  })

  it("create via B, heartbeat via A: one owner both agree on, one agent on the gateway, woken once", async () => {
    const [a, b] = [cluster.service(0), cluster.service(1)]
    const { gatewayId, boardId } = await registerGateway(b, gateway!, "real-cluster")
    const agent = await createAgent(b, boardId, "Ada")
    expect(agent.state).toBe("provisioning.awaiting")

    const file = (await raw.call("agents.files.get", { agentId: agent.gateway_agent_id, name: "AGENTS.md" })).payload as { file?: { content?: string } }
    const token = readAuthToken(file.file?.content ?? "")
    expect(token, "a heartbeat token in AGENTS.md on the gateway").toBeDefined()
    const beat = await heartbeat(a.url, token!)
    expect(beat.status, JSON.stringify(beat.body)).toBe(200)
    expect(beat.body).toMatchObject({ id: agent.id, status: "online" })
    expect((await heartbeat(b.url, token!)).status).toBe(200)

    const views = [await readCluster(a), await readCluster(b)]
    const owner = ownerIn(views[0]!, gatewayId)
    expect(owner, "the gateway has an owner").toBeDefined()
    expect(ownerIn(views[1]!, gatewayId)).toBe(owner)
    expect(cluster.byRunner(owner!)).toBeDefined()

    const listed = ((await raw.call("agents.list", {})).payload as { agents: Array<{ id: string }> }).agents.map((entry) => entry.id)
    expect(listed.filter((id) => id === agent.gateway_agent_id)).toHaveLength(1)
    // The wake reached the session once: one user row keyed `wake-…` in its history. The gateway
    // writes it when the run starts, not at the ack (docs/gateway-protocol.md §5): about 6 s for an
    // agent's first run on a quiet machine, longer on a loaded one.
    const wakes = async () => {
      const answer = await raw.call("chat.history", { sessionKey: `agent:${agent.gateway_agent_id}:main`, limit: 50 })
      // A busy gateway may refuse the read (UNAVAILABLE); expect.poll asks again and reports the last refusal.
      if (!answer.ok) throw new Error(`chat.history refused: ${JSON.stringify(answer.error)}`)
      const { messages } = answer.payload as { messages: Array<{ role: string; idempotencyKey?: string }> }
      return messages.filter((message) => message.role === "user" && message.idempotencyKey?.startsWith("wake-") === true)
    }
    let seen: Awaited<ReturnType<typeof wakes>> = []
    await expect
      .poll(async () => (seen = await wakes()).length, { timeout: 60_000, interval: 250, message: "the wake's user row in the agent's main session" })
      .toBeGreaterThan(0)
    expect(seen, "wake messages in the agent's main session").toHaveLength(1)
  }, 120_000)
})
