import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createAgent, heartbeat, registerGateway, simulatorToken, type CreatedAgent, type HeartbeatAnswer } from "../support/cluster/clusterFleet.ts"
import { ownerIn, readCluster } from "../support/cluster/clusterView.ts"
import { startCluster, type TestCluster } from "../support/cluster/startCluster.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * Two runners on one database, two simulated gateways (docs/operations.md "Cluster"). Agents are
 * created through runner A (one through B); B restarts while they await their check-in; then they
 * heartbeat through both. The check-in deadline is short, so a second actor of an agent (the
 * defect of issue 14) would wake it again in the wait.
 */

/** Long enough for the setup below to heartbeat every agent in time, short enough to wait out. */
const CHECKIN_TIMEOUT_MS = 15_000

describe("two runners, one database (real processes, simulated gateways)", () => {
  let cluster: TestCluster
  const simulators: Array<GatewaySimulator> = []
  const fleet: Array<{ simulator: GatewaySimulator; gatewayId: string; agents: Array<CreatedAgent> }> = []
  const answers: Array<{ agent: string; via: number; answer: HeartbeatAnswer }> = []

  beforeAll(async () => {
    cluster = await startCluster({ env: { SWITCHYARD_CHECKIN_TIMEOUT_MS: String(CHECKIN_TIMEOUT_MS), SWITCHYARD_OFFLINE_AFTER_MS: "600000" } })
    const [a, b] = [cluster.service(0), cluster.service(1)]
    for (const name of ["east", "west"]) {
      const simulator = await startGatewaySimulator()
      simulators.push(simulator)
      const { gatewayId, boardId } = await registerGateway(a, simulator, name)
      const agents = await Promise.all([createAgent(a, boardId, `${name}-1`), createAgent(a, boardId, `${name}-2`), createAgent(b, boardId, `${name}-3`)])
      fleet.push({ simulator, gatewayId, agents })
    }
    const wokenBy = Date.now()
    // B restarts while the agents await their check-in: the restart of issue 14 where B's copy woke them again.
    await cluster.stop(1, "SIGTERM")
    const restarted = await cluster.start(1)
    for (const { simulator, agents } of fleet)
      for (const agent of agents) {
        const token = simulatorToken(simulator, agent.gateway_agent_id)
        answers.push({ agent: agent.id, via: 1, answer: await heartbeat(restarted.url, token) })
        answers.push({ agent: agent.id, via: 0, answer: await heartbeat(a.url, token) })
      }
    // Past the check-in deadline: a stale second actor still awaiting would wake again by now.
    await sleep(wokenBy + CHECKIN_TIMEOUT_MS + 2_000 - Date.now())
  }, 150_000)

  afterAll(async () => {
    await cluster?.close()
    for (const simulator of simulators) await simulator.stop()
  })

  it("answers heartbeats through both runners and brings every agent online", async () => {
    for (const { agent, via, answer } of answers) expect(answer.status, `heartbeat of ${agent} via node ${via}: ${JSON.stringify(answer.body)}`).toBe(200)
    for (const via of [0, 1])
      for (const { agents } of fleet)
        for (const agent of agents) {
          const read = await cluster.service(via).api("GET", `/api/v1/agents/${agent.id}`)
          expect(read.body?.state, `${agent.id} read via node ${via}`).toBe("online")
        }
  })

  it("both runners agree in GET /api/v1/cluster on one live owner per gateway", async () => {
    const views = [await readCluster(cluster.service(0)), await readCluster(cluster.service(1))]
    expect(views.map((view) => view.self)).toEqual(cluster.nodes.map((node) => node.runner))
    for (const view of views) expect(view.runners.map((runner) => runner.address).sort()).toEqual(cluster.nodes.map((node) => node.runner).sort())
    for (const { gatewayId } of fleet) {
      const owners = views.map((view) => ownerIn(view, gatewayId))
      expect(owners[0], `owner of ${gatewayId}`).toBeDefined()
      expect(owners[1]).toBe(owners[0])
      expect(cluster.byRunner(owners[0]!), `owner ${owners[0]} is one of the runners`).toBeDefined()
    }
  })

  it("wakes every agent exactly once", () => {
    for (const { simulator, agents } of fleet)
      for (const agent of agents) {
        const wakes = simulator.chatSendKeys(agent.gateway_agent_id).filter((key) => key.startsWith("wake-"))
        expect(wakes, `wakes of ${agent.id}: ${wakes.join(", ")}`).toHaveLength(1)
      }
  })

  it("holds one socket per gateway across the cluster", () => {
    for (const { simulator } of fleet) expect(simulator.openSockets, `open sockets at ${simulator.url}`).toBe(1)
  })

  it("creates each agent once on its gateway, and nothing else", async () => {
    for (const { simulator, gatewayId, agents } of fleet) {
      const listed = await cluster.service(1).api("GET", `/api/v1/agents?gateway_id=${gatewayId}&limit=200`)
      // The gateway's own agent (registered with the gateway) is a row too.
      const rows = (listed.body.items as Array<{ gateway_agent_id: string }>).map((row) => row.gateway_agent_id)
      expect(rows).toEqual(expect.arrayContaining(agents.map((agent) => agent.gateway_agent_id)))
      const onGateway = [...simulator.state.agents.keys()].filter((id) => id !== "main")
      expect(onGateway.sort()).toEqual([...rows].sort())
      for (const id of rows) {
        const creates = simulator.calls.filter((call) => call.method === "agents.create" && String((call.params as { name?: unknown }).name ?? "").toLowerCase() === id)
        expect(creates, `agents.create calls for ${id}`).toHaveLength(1)
      }
    }
  })
})
