import { randomInt } from "node:crypto"
import { setTimeout as sleep } from "node:timers/promises"
import pg from "pg"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { createTestDatabase } from "./database.ts"
import { startService, type ServiceProcess } from "./serviceProcess.ts"
import { startGatewaySimulator } from "./simulator/GatewaySimulator.ts"

/**
 * Kill -9 trials under mixed load, with real processes: the service runs as a child process on
 * a fresh database of the machine's Postgres, the gateway simulator runs here. A trial drives
 * heartbeats, creates, updates, deletes and board-chat messages at the running service,
 * recording every request answered 2xx and what it promised; SIGKILLs the service at a random
 * moment; checks in the database, before anything restarts, that every accepted event is
 * there; restarts the service on the same database; then waits (up to `settleTimeoutMs`) until
 * no agent is half-done: every agent settled (online, offline, deleted, or a `failed` state),
 * accepted deletes gone from the gateway, the gateway's agents and the read model in agreement,
 * accepted messages settled. After the restart this process plays the agents: it heartbeats
 * each one with the token found in its AGENTS.md on the gateway, as a running agent would.
 * The restarted service is the one the next trial loads and kills.
 */

export interface KillTrialOptions {
  /** Agents created before the first trial, one of them the board lead. Default 4. */
  readonly agents?: number
  /** Concurrent request loops during the load. Default 4. */
  readonly workers?: number
  /** The kill falls uniformly in [min, max] ms after the load starts. Default [300, 1500]. */
  readonly killAfterMs?: readonly [number, number]
  /** Bound on convergence after the restarted service is ready, ms. Default 30000. */
  readonly settleTimeoutMs?: number
}

/** What one trial saw. `lost` and `halfDone` describe each defect; empty when the trial held. */
export interface KillTrialReport {
  readonly trial: number
  /** Requests answered 2xx during this trial's load, by kind. */
  readonly accepted: Readonly<Record<string, number>>
  readonly acceptedTotal: number
  /** Requests in flight at the kill, by kind (no answer; either outcome is allowed). */
  readonly inFlightAtKill: Readonly<Record<string, number>>
  /** Accepted events not found in the database right after the kill. */
  readonly lost: ReadonlyArray<string>
  /** What still did not hold `settleTimeoutMs` after the restart (empty when converged). */
  readonly halfDone: ReadonlyArray<string>
  /** What had not converged yet `SLOW_MS` after the restart, with its transitions (empty when sooner). */
  readonly slow: ReadonlyArray<string>
  /** Spawn of the restarted service → `/readyz` 200, ms. */
  readonly restartMs: number
  /** `/readyz` 200 → every agent settled and consistent, ms (the bound when it never was). */
  readonly recoveryMs: number
  /** Accepted messages so far that settled as `failed`, with the reason (reported, not a defect by itself). */
  readonly messageFailures: ReadonlyArray<string>
}

/** A session of trials on one database, one simulator and a service restarted by each trial. */
export interface KillTrials {
  /** Runs one trial: load, SIGKILL, durability check, restart, convergence check. */
  readonly run: () => Promise<KillTrialReport>
  /** Logs of the service processes so far (for a failing assertion). */
  readonly logs: () => string
  /** Stops the service (SIGTERM), the simulator, and drops the database. */
  readonly stop: () => Promise<void>
}

interface TrackedAgent {
  readonly id: string
  readonly gatewayAgentId: string
  readonly role: string
  /** Set when its create was answered 2xx. */
  createAccepted: boolean
  /** The latest `last_seen_at` an accepted heartbeat answered, epoch ms. */
  seenAt: number
  /** Names the row may show: the last accepted one, plus any sent without an answer. */
  names: Set<string>
  deleteAccepted: boolean
  /** A delete was sent without an answer: the agent may or may not be deleted. */
  deleteUnsure: boolean
  busy: boolean
}

interface AcceptedMessage {
  readonly id: string
  readonly targetAgentId: string
  /** How its delivery ended, once seen (settled messages are not asked again). */
  settled?: "delivered" | "failed"
  /** Why it failed, and whether its target had been deleted by then. */
  failure?: string
}

interface AgentRow {
  id: string
  name: string
  state_path: string
  gateway_agent_id: string
  role: string
  last_seen_at: Date | null
}

/** What a trial recorded of one agent's accepted requests. */
export interface AcceptedAgentEvents {
  readonly id: string
  /** Its create was answered 2xx. */
  readonly createAccepted: boolean
  /** The latest `last_seen_at` an accepted heartbeat answered, epoch ms (0: none). */
  readonly seenAt: number
  /** Names the row may show. */
  readonly names: ReadonlySet<string>
}

/**
 * The accepted events of `agent` its database row (undefined: none) lacks: the create, the
 * latest heartbeat, the name (`renamedBy` names the request that set it in the message).
 */
export const lostAgentEvents = (
  agent: AcceptedAgentEvents,
  row: { readonly name: string; readonly last_seen_at: Date | null } | undefined,
  renamedBy: string
): Array<string> => {
  if (row === undefined) return agent.createAccepted ? [`create of ${agent.id} answered 201, no row`] : []
  const lost: Array<string> = []
  if (agent.seenAt > 0 && (row.last_seen_at === null || row.last_seen_at.getTime() < agent.seenAt))
    lost.push(`heartbeat of ${agent.id} answered last_seen_at ${new Date(agent.seenAt).toISOString()}, row has ${row.last_seen_at?.toISOString() ?? "null"}`)
  if (!agent.names.has(row.name)) lost.push(`${renamedBy} of ${agent.id}: row name ${row.name}, expected one of ${[...agent.names].join(", ")}`)
  return lost
}

/** Adds `by` (default 1) to `counts[key]`. */
export const tally = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by
}

/** The sum of `counts`. */
export const total = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((sum, n) => sum + n, 0)

/** Runs `workers` loops of `step` until `stopped()`; resolves when all have. */
export const runLoops = (workers: number, stopped: () => boolean, step: () => Promise<unknown>) =>
  Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stopped()) await step()
    })
  )

const SETTLED = (statePath: string) =>
  statePath === "online" || statePath === "offline" || statePath === "deleted" || statePath.endsWith(".failed")

/** Convergence slower than this after a restart is described in the report's `slow`. */
const SLOW_MS = 5_000

const TEST_SECRET_KEY = Buffer.alloc(32, 9).toString("base64")

/** Starts the database, the simulator and the service, and creates the first agents. */
export const startKillTrials = async (options: KillTrialOptions = {}): Promise<KillTrials> => {
  const agentCount = options.agents ?? 4
  const workers = options.workers ?? 4
  const [killMin, killMax] = options.killAfterMs ?? [300, 1500]
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000
  const db = await createTestDatabase()
  const simulator = await startGatewaySimulator()
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  // A client still closing when the database is dropped (`with (force)`) is terminated by the
  // server: that is the end of the trial, not a failure of it (an unhandled pool error would be).
  pool.on("error", () => {})
  const env = {
    DATABASE_URL: db.url,
    SWITCHYARD_SECRET_KEY: TEST_SECRET_KEY,
    SWITCHYARD_CHECKIN_TIMEOUT_MS: "300000",
    SWITCHYARD_OFFLINE_AFTER_MS: "300000",
    SWITCHYARD_RETRY_BASE_MS: "200"
  }
  const logs: Array<string> = []
  let service: ServiceProcess | undefined
  try {
    service = await startService(env)
    const first = service
    const gateway = await first.api("POST", "/api/v1/gateways", { name: "Kill", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    if (gateway.status !== 201) throw new Error(`gateway: ${gateway.status} ${JSON.stringify(gateway.body)}`)
    const gatewayId = String(gateway.body.id)
    const board = await first.api("POST", "/api/v1/boards", { name: "Kill trials", gateway_id: gatewayId })
    if (board.status !== 201) throw new Error(`board: ${board.status} ${JSON.stringify(board.body)}`)
    const boardId = String(board.body.id)
    const agents = new Map<string, TrackedAgent>()
    const track = (body: { id: string; gateway_agent_id: string; role: string; name: string }, createAccepted: boolean) => {
      const agent: TrackedAgent = {
        id: body.id,
        gatewayAgentId: body.gateway_agent_id,
        role: body.role,
        createAccepted,
        seenAt: 0,
        names: new Set([body.name]),
        deleteAccepted: false,
        deleteUnsure: false,
        busy: false
      }
      agents.set(agent.id, agent)
      return agent
    }
    for (let i = 0; i < agentCount; i++) {
      const created = await first.api("POST", "/api/v1/agents", { name: `kt-${i}`, board_id: boardId, ...(i === 0 ? { is_board_lead: true } : {}) })
      if (created.status !== 201) throw new Error(`agent ${i}: ${created.status} ${JSON.stringify(created.body)}`)
      track(created.body, true)
    }
    let trialCount = 0
    let nameCount = 0
    const messages: Array<AcceptedMessage> = []
    const memories: Array<string> = []

    const tokenOf = (agent: TrackedAgent) => readAuthToken(simulator.state.files.get(agent.gatewayAgentId)?.get("AGENTS.md") ?? "")
    const rows = async () => (await pool.query<AgentRow>("select id, name, state_path, gateway_agent_id, role, last_seen_at from agents where gateway_id = $1", [gatewayId])).rows

    /** Heartbeats every agent with a token on the gateway, as running agents do. */
    const playAgents = (url: string) => {
      let playing = true
      const done = (async () => {
        while (playing) {
          // Agents whose create was in flight at the kill exist too, and check in like the others.
          for (const row of await rows()) if (!agents.has(row.id)) track({ id: row.id, gateway_agent_id: row.gateway_agent_id, role: row.role, name: row.name }, false)
          await Promise.all(
            [...agents.values()]
              .filter((agent) => !agent.deleteAccepted)
              .map(async (agent) => {
                const token = tokenOf(agent)
                if (token === undefined) return
                await fetch(`${url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token } }).then((r) => r.arrayBuffer(), () => undefined)
              })
          )
          await sleep(250)
        }
      })()
      return async () => {
        playing = false
        await done
      }
    }

    /** Every accepted event is in the database (run while no service is up). */
    const findLost = async (): Promise<Array<string>> => {
      const lost: Array<string> = []
      const byId = new Map((await rows()).map((row) => [row.id, row]))
      for (const agent of agents.values()) {
        const row = byId.get(agent.id)
        lost.push(...lostAgentEvents(agent, row, "update"))
        if (row !== undefined && agent.deleteAccepted && !row.state_path.startsWith("deleting") && row.state_path !== "deleted")
          lost.push(`delete of ${agent.id} answered 2xx, row is ${row.state_path}`)
      }
      const ids = messages.map((message) => message.id)
      const ledger = new Set((await pool.query<{ id: string }>("select id from messages where id = any($1)", [ids])).rows.map((row) => row.id))
      for (const id of ids) if (!ledger.has(id)) lost.push(`message ${id} answered 201, not in the ledger`)
      const memory = new Set((await pool.query<{ id: string }>("select id from board_memory where id = any($1)", [memories])).rows.map((row) => row.id))
      for (const id of memories) if (!memory.has(id)) lost.push(`board memory ${id} answered 201, no row`)
      return lost
    }

    /** What is still half-done (empty once converged), and how many accepted messages failed. */
    const findHalfDone = async (live: ServiceProcess): Promise<{ problems: Array<string>; messageFailures: Array<string> }> => {
      const problems: Array<string> = []
      const all = await rows()
      const listed = await live.api("GET", `/api/v1/agents?gateway_id=${gatewayId}&limit=200`)
      if (listed.status !== 200) return { problems: [`GET /agents answered ${listed.status}`], messageFailures: [] }
      const readModel = listed.body.items as Array<{ id: string; state: string; name: string; gateway_agent_id: string }>
      for (const row of all) if (!SETTLED(row.state_path)) problems.push(`${row.id} (${row.role}) in ${row.state_path}`)
      for (const agent of agents.values()) {
        const row = all.find((candidate) => candidate.id === agent.id)
        if (agent.deleteAccepted && row !== undefined && row.state_path !== "deleted") problems.push(`${agent.id}: delete accepted, state ${row.state_path}`)
        if (agent.deleteAccepted && simulator.state.agents.has(agent.gatewayAgentId)) problems.push(`${agent.id}: delete accepted, still on the gateway`)
      }
      for (const shown of readModel) {
        if (shown.state !== "online" && shown.state !== "offline") continue
        const files = simulator.state.files.get(shown.gateway_agent_id)
        if (!simulator.state.agents.has(shown.gateway_agent_id)) problems.push(`${shown.id} shown ${shown.state}, absent from the gateway`)
        else if (!(files?.get("IDENTITY.md") ?? "").includes(`**Name:** ${shown.name}\n`)) problems.push(`${shown.id} shown as ${shown.name}, the gateway's IDENTITY.md says otherwise`)
      }
      const alive = new Set(readModel.filter((shown) => shown.state !== "deleted").map((shown) => shown.gateway_agent_id))
      for (const id of simulator.state.agents.keys()) if (id !== "main" && !alive.has(id)) problems.push(`gateway agent ${id} has no live row (orphan)`)
      const sent = new Set(simulator.calls.filter((call) => call.method === "chat.send").map((call) => (call.params as { idempotencyKey?: string }).idempotencyKey))
      for (const message of messages) {
        if (message.settled !== undefined) continue
        const answer = await live.api("GET", `/api/v1/messages/${message.id}`)
        const status = answer.body?.status as string | undefined
        if (status !== "delivered" && status !== "failed") problems.push(`message ${message.id} is ${status ?? answer.status}`)
        else if (status === "delivered" && !sent.has(`msg-${message.id}`)) problems.push(`message ${message.id} delivered, the gateway never got chat.send`)
        else {
          message.settled = status
          if (status === "failed") {
            const target = agents.get(message.targetAgentId)
            const gone = target === undefined || target.deleteAccepted || target.deleteUnsure
            message.failure = `${JSON.stringify(answer.body?.last_error)} (target ${gone ? "deleted or being deleted" : "live"})`
          }
        }
      }
      return { problems, messageFailures: messages.flatMap((message) => (message.failure === undefined ? [] : [`${message.id}: ${message.failure}`])) }
    }

    /**
     * Adds, to each problem naming an agent, what a reproduction needs: its last transitions,
     * whether the gateway holds a token for it, and how a heartbeat with that token is answered.
     */
    const diagnose = async (live: ServiceProcess, problems: ReadonlyArray<string>) =>
      Promise.all(
        problems.map(async (problem) => {
          const agent = [...agents.values()].find((candidate) => problem.startsWith(candidate.id))
          if (agent === undefined) return problem
          const transitions = await live.api("GET", `/api/v1/agents/${agent.id}/transitions?limit=8`)
          const steps = ((transitions.body?.items ?? []) as Array<{ from: string | null; to: string; event: string }>)
            .reverse()
            .map((step) => `${step.from ?? "∅"}→${step.to} (${step.event})`)
          const token = tokenOf(agent)
          const beat =
            token === undefined
              ? "no token on the gateway"
              : `heartbeat with the gateway's token answers ${(await fetch(`${live.url}/api/v1/agent/heartbeat`, { method: "POST", headers: { "x-agent-token": token } })).status}`
          return `${problem}; ${beat}; created ${agent.createAccepted ? "accepted" : "unanswered"}; transitions: ${steps.join(", ")}`
        })
      )

    /** One request loop: picks an operation and an idle agent, records what a 2xx promised. */
    const load = (live: ServiceProcess, accepted: Record<string, number>, stopped: () => boolean, inFlight: Record<string, number>) => {
      const call = async (kind: string, method: string, route: string, init: { body?: unknown; token?: string }) => {
        tally(inFlight, kind)
        try {
          const response = await fetch(`${live.url}${route}`, {
            method,
            headers: {
              ...(init.token === undefined ? { authorization: `Bearer ${live.adminToken}` } : { "x-agent-token": init.token }),
              "content-type": "application/json"
            },
            ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
          })
          const text = await response.text()
          // A 5xx promises nothing either way (a persist timeout's event stands and is saved later).
          if (response.status < 200 || response.status > 299) return { ok: false as const, answered: response.status < 500 }
          tally(accepted, kind)
          return { ok: true as const, answered: true, body: text === "" ? null : JSON.parse(text) }
        } catch {
          return { ok: false as const, answered: false }
        } finally {
          tally(inFlight, kind, -1)
        }
      }
      const idle = () => {
        const candidates = [...agents.values()].filter((agent) => !agent.busy && !agent.deleteAccepted && !agent.deleteUnsure)
        return candidates[randomInt(Math.max(1, candidates.length))]
      }
      const step = async () => {
        const roll = randomInt(100)
        if (roll < 10) {
          const name = `kt-c${nameCount++}`
          const result = await call("create", "POST", "/api/v1/agents", { body: { name, board_id: boardId } })
          if (result.ok) track(result.body, true)
          return
        }
        if (roll < 22) {
          const target = [...agents.values()].find((agent) => !agent.deleteAccepted && !agent.deleteUnsure && agent.role === "worker" && randomInt(2) === 0)
          const mention = target === undefined ? "" : `@${[...target.names][0] ?? ""} `
          const result = await call("message", "POST", `/api/v1/boards/${boardId}/memory`, { body: { content: `${mention}ping ${nameCount++}`, tags: ["chat"] } })
          if (result.ok) {
            memories.push(String(result.body.id))
            for (const message of result.body.messages as Array<{ id: string; target_agent_id: string }>) messages.push({ id: message.id, targetAgentId: message.target_agent_id })
          }
          return
        }
        const agent = idle()
        if (agent === undefined) return sleep(20)
        agent.busy = true
        try {
          if (roll < 70) {
            const token = tokenOf(agent)
            if (token === undefined) return await sleep(10)
            const result = await call("heartbeat", "POST", "/api/v1/agent/heartbeat", { token })
            if (result.ok && typeof result.body.last_seen_at === "string") agent.seenAt = Math.max(agent.seenAt, Date.parse(result.body.last_seen_at))
          } else if (roll < 90 || agent.role !== "worker") {
            if (agent.role === "main") return
            const name = `kt-u${nameCount++}`
            const result = await call("update", "PATCH", `/api/v1/agents/${agent.id}`, { body: { name } })
            // Unanswered (or 5xx), the update may or may not have happened; refused (4xx), it should not have.
            if (result.ok) agent.names = new Set([name])
            else if (!result.answered) agent.names.add(name)
          } else {
            const result = await call("delete", "DELETE", `/api/v1/agents/${agent.id}`, {})
            if (result.ok) agent.deleteAccepted = true
            else if (!result.answered) agent.deleteUnsure = true
          }
        } finally {
          agent.busy = false
        }
      }
      return runLoops(workers, stopped, step)
    }

    /** After a trial: what the restarted service shows becomes what the next trial expects. */
    const adopt = async () => {
      for (const row of await rows()) {
        const agent = agents.get(row.id) ?? track({ id: row.id, gateway_agent_id: row.gateway_agent_id, role: row.role, name: row.name }, false)
        agent.names = new Set([row.name])
        if (row.state_path === "deleted") agent.deleteAccepted = true
        agent.deleteUnsure = false
      }
    }
    await adopt()
    // Let the first agents reach the gateway and check in before the first trial.
    const stopPlaying = playAgents(first.url)
    const deadline = Date.now() + settleTimeoutMs
    while ((await findHalfDone(first)).problems.length > 0 && Date.now() < deadline) await sleep(200)
    await stopPlaying()

    return {
      logs: () => [...logs, service?.logs() ?? ""].join("\n--- restart ---\n"),
      run: async () => {
        const live = service!
        const trial = ++trialCount
        const accepted: Record<string, number> = {}
        const inFlight: Record<string, number> = {}
        let stopped = false
        const loading = load(live, accepted, () => stopped, inFlight)
        await sleep(killMin + randomInt(Math.max(1, killMax - killMin + 1)))
        const inFlightAtKill = Object.fromEntries(Object.entries(inFlight).filter(([, n]) => n > 0))
        stopped = true
        await live.kill("SIGKILL")
        await loading
        logs.push(live.logs())
        const lost = await findLost()
        const spawnedAt = Date.now()
        service = await startService(env)
        const restarted = service
        const readyAt = Date.now()
        const stop = playAgents(restarted.url)
        let check = await findHalfDone(restarted)
        let slow: ReadonlyArray<string> = []
        while (check.problems.length > 0 && Date.now() - readyAt < settleTimeoutMs) {
          await sleep(100)
          check = await findHalfDone(restarted)
          if (slow.length === 0 && check.problems.length > 0 && Date.now() - readyAt > SLOW_MS) slow = await diagnose(restarted, check.problems)
        }
        const recoveryMs = Date.now() - readyAt
        await stop()
        const halfDone = check.problems.length === 0 ? [] : await diagnose(restarted, check.problems)
        await adopt()
        return {
          trial,
          accepted,
          acceptedTotal: total(accepted),
          inFlightAtKill,
          lost,
          halfDone,
          slow,
          restartMs: readyAt - spawnedAt,
          recoveryMs,
          messageFailures: check.messageFailures
        }
      },
      stop: async () => {
        await service?.kill("SIGTERM")
        await pool.end()
        await simulator.stop()
        await db.drop()
      }
    }
  } catch (error) {
    await service?.kill("SIGKILL")
    await pool.end()
    await simulator.stop()
    await db.drop()
    throw error
  }
}
