import { randomInt } from "node:crypto"
import { setTimeout as sleep } from "node:timers/promises"
import pg from "pg"
import { readAuthToken } from "../../../src/templates/readAuthToken.ts"
import { lostAgentEvents, runLoops, tally, total } from "../killTrial.ts"
import { startGatewaySimulator } from "../simulator/GatewaySimulator.ts"
import { createAgent, heartbeat, registerGateway } from "./clusterFleet.ts"
import { poll } from "./poll.ts"
import { startCluster } from "./startCluster.ts"

/**
 * Random SIGKILL trials under load on a two-runner cluster (the multi-runner form of
 * `test/support/killTrial.ts`): workers send heartbeats, renames and creates to both runners
 * and record every 2xx; one runner (owner or not, at random) is SIGKILLed at a random moment
 * while the load goes on against the survivor for `afterKillMs`; the database must then hold
 * every accepted event. The killed runner restarts and the trial waits until every agent is
 * online again (this process plays the agents), with at most one socket at the gateway.
 */

export interface ClusterKillTrialOptions {
  /** Agents created before the first trial. Default 4. */
  readonly agents?: number
  /** Concurrent request loops. Default 4. */
  readonly workers?: number
  /** The kill falls uniformly in [min, max] ms after the load starts. Default [300, 1500]. */
  readonly killAfterMs?: readonly [number, number]
  /** Load kept on the survivor after the kill, ms. Default 1000. */
  readonly afterKillMs?: number
  /** Bound on convergence after the restart, ms. Default 30000. */
  readonly settleTimeoutMs?: number
  /** Shard-lock expiry, ms. Default 3000. */
  readonly shardLockExpirationMs?: number
  /** Which runner dies: either at random (default), or the gateway's owner in odd trials and the other in even ones. */
  readonly victim?: "random" | "alternate"
}

/** What one trial saw; `lost` and `halfDone` are empty when it held. */
export interface ClusterKillTrialReport {
  readonly trial: number
  /** The node SIGKILLed, and whether it owned the gateway. */
  readonly killed: number
  readonly killedOwner: boolean
  /** 2xx answers by kind, and every other answer by status (0: no answer). */
  readonly accepted: Readonly<Record<string, number>>
  readonly acceptedTotal: number
  readonly refused: Readonly<Record<string, number>>
  readonly lost: ReadonlyArray<string>
  readonly halfDone: ReadonlyArray<string>
  /** Restart of the killed node → every agent online again, ms. */
  readonly recoveryMs: number
}

export interface ClusterKillTrials {
  readonly run: () => Promise<ClusterKillTrialReport>
  readonly logs: () => string
  readonly stop: () => Promise<void>
}

interface Tracked {
  readonly id: string
  readonly gatewayAgentId: string
  seenAt: number
  names: Set<string>
  createAccepted: boolean
  busy: boolean
}

/** Starts the cluster, the simulator and the first agents. */
export const startClusterKillTrials = async (options: ClusterKillTrialOptions = {}): Promise<ClusterKillTrials> => {
  const workers = options.workers ?? 4
  const [killMin, killMax] = options.killAfterMs ?? [300, 1500]
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000
  const cluster = await startCluster({
    shardLockExpirationMs: options.shardLockExpirationMs ?? 3_000,
    env: { SWITCHYARD_CHECKIN_TIMEOUT_MS: "300000", SWITCHYARD_OFFLINE_AFTER_MS: "300000", SWITCHYARD_RETRY_BASE_MS: "200" }
  })
  const simulator = await startGatewaySimulator()
  const pool = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 })
  // The database is dropped (with force) at the end; an idle client cut then is no failure.
  pool.on("error", () => undefined)
  const close = async () => {
    await pool.end()
    await cluster.close().catch(() => undefined)
    await simulator.stop()
  }
  try {
    const { gatewayId, boardId } = await registerGateway(cluster.service(0), simulator, "kill")
    const agents = new Map<string, Tracked>()
    const track = (id: string, gatewayAgentId: string, name: string, createAccepted: boolean) => {
      const agent: Tracked = { id, gatewayAgentId, seenAt: 0, names: new Set([name]), createAccepted, busy: false }
      agents.set(id, agent)
      return agent
    }
    for (let i = 0; i < (options.agents ?? 4); i++) {
      const agent = await createAgent(cluster.service(i % cluster.nodes.length), boardId, `ckt-${i}`)
      track(agent.id, agent.gateway_agent_id, agent.name, true)
    }
    const tokenOf = (agent: Tracked) => readAuthToken(simulator.state.files.get(agent.gatewayAgentId)?.get("AGENTS.md") ?? "")
    const live = () => cluster.nodes.flatMap((node) => (node.service === undefined || node.service.exited() ? [] : [node.service]))
    const rows = async () =>
      (await pool.query<{ id: string; name: string; state_path: string; gateway_agent_id: string; last_seen_at: Date | null }>("select id, name, state_path, gateway_agent_id, last_seen_at from agents where gateway_id = $1", [gatewayId])).rows

    /** Heartbeats every agent through a running node until each is online; returns what is not. */
    const settle = async (withinMs: number) => {
      const done = await poll(
        async () => {
          const all = await rows()
          for (const row of all) if (!agents.has(row.id)) track(row.id, row.gateway_agent_id, row.name, false)
          const targets = live()
          await Promise.all(
            all.filter((row) => row.state_path !== "online").map(async (row) => {
              const token = tokenOf(agents.get(row.id)!)
              const via = targets[randomInt(Math.max(1, targets.length))]
              if (token !== undefined && via !== undefined) await heartbeat(via.url, token, 5_000)
            })
          )
          const problems = all.filter((row) => row.state_path !== "online").map((row) => `${row.id} in ${row.state_path}`)
          // The owner opens the socket on its first gateway call: none is fine, two are not.
          if (simulator.openSockets > 1) problems.push(`${simulator.openSockets} sockets open at the gateway`)
          return problems
        },
        (problems) => problems.length === 0,
        withinMs,
        250
      )
      return done.value ?? ["never read the database"]
    }

    /** Every accepted event is in the database. */
    const findLost = async () => {
      const byId = new Map((await rows()).map((row) => [row.id, row]))
      return [...agents.values()].flatMap((agent) => lostAgentEvents(agent, byId.get(agent.id), "rename"))
    }

    let names = 0
    const load = (accepted: Record<string, number>, refused: Record<string, number>, stopped: () => boolean) => {
      const call = async (kind: string, method: string, route: string, init: { body?: unknown; token?: string; rotatedSince?: () => boolean }) => {
        const targets = live()
        const via = targets[randomInt(Math.max(1, targets.length))]
        if (via === undefined) return undefined
        try {
          const response = await fetch(`${via.url}${route}`, {
            method,
            headers: { ...(init.token === undefined ? { authorization: `Bearer ${via.adminToken}` } : { "x-agent-token": init.token }), "content-type": "application/json" },
            signal: AbortSignal.timeout(20_000),
            ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
          })
          const text = await response.text()
          if (response.status < 200 || response.status > 299) {
            // A 401 for a token an update rotated while the request was under way is the rotation
            // (docs/architecture.md §5.3); one for the token the workspace still holds is a defect.
            const rotated = response.status === 401 && init.token !== undefined && init.rotatedSince?.() === true
            tally(refused, rotated ? "401 (token rotated meanwhile)" : String(response.status))
            return response.status < 500 ? null : undefined
          }
          tally(accepted, kind)
          return JSON.parse(text) as Record<string, any>
        } catch {
          tally(refused, "0")
          return undefined
        }
      }
      const step = async () => {
        const roll = randomInt(100)
        if (roll < 10) {
          const name = `ckt-c${names++}`
          const body = await call("create", "POST", "/api/v1/agents", { body: { name, board_id: boardId } })
          if (body) track(String(body.id), String(body.gateway_agent_id), name, true)
          return
        }
        const idle = [...agents.values()].filter((agent) => !agent.busy)
        const agent = idle[randomInt(Math.max(1, idle.length))]
        if (agent === undefined) return sleep(20)
        agent.busy = true
        try {
          if (roll < 85) {
            const token = tokenOf(agent)
            if (token === undefined) return await sleep(10)
            const body = await call("heartbeat", "POST", "/api/v1/agent/heartbeat", { token, rotatedSince: () => tokenOf(agent) !== token })
            if (body && typeof body.last_seen_at === "string") agent.seenAt = Math.max(agent.seenAt, Date.parse(body.last_seen_at))
          } else {
            const name = `ckt-u${names++}`
            const body = await call("rename", "PATCH", `/api/v1/agents/${agent.id}`, { body: { name } })
            // Unanswered (or 5xx) the rename may or may not have happened; refused (4xx) it did not.
            if (body) agent.names = new Set([name])
            else if (body === undefined) agent.names.add(name)
          }
        } finally {
          agent.busy = false
        }
      }
      return runLoops(workers, stopped, step)
    }

    const initial = await settle(settleTimeoutMs)
    if (initial.length > 0) throw new Error(`the first agents never settled: ${initial.join("; ")}\n${cluster.logs().slice(-4000)}`)
    let trials = 0
    return {
      logs: cluster.logs,
      stop: close,
      run: async () => {
        const trial = ++trials
        const accepted: Record<string, number> = {}
        const refused: Record<string, number> = {}
        let stopped = false
        const owner = (await cluster.service(0).api("GET", "/api/v1/cluster")).body?.gateways?.find((entry: { gateway_id: string }) => entry.gateway_id === gatewayId)?.runner
        const loading = load(accepted, refused, () => stopped)
        await sleep(killMin + randomInt(Math.max(1, killMax - killMin + 1)))
        const ownerIndex = cluster.nodes.findIndex((node) => node.runner === owner)
        const killed =
          options.victim === "alternate" && ownerIndex !== -1 ? (trial % 2 === 1 ? ownerIndex : (ownerIndex + 1) % cluster.nodes.length) : randomInt(cluster.nodes.length)
        await cluster.stop(killed, "SIGKILL")
        await sleep(options.afterKillMs ?? 1_000)
        stopped = true
        await loading
        const lost = await findLost()
        await cluster.start(killed)
        const restartedAt = Date.now()
        const halfDone = await settle(settleTimeoutMs)
        return {
          trial,
          killed,
          killedOwner: owner === cluster.nodes[killed]!.runner,
          accepted,
          acceptedTotal: total(accepted),
          refused,
          lost,
          halfDone,
          recoveryMs: Date.now() - restartedAt
        }
      }
    }
  } catch (error) {
    await close()
    throw error
  }
}
