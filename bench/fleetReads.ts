/**
 * Fleet-sized gateway reads: what one `health {probe: true}` and one `agents.list` of a gateway
 * with `FLEET_READS_AGENTS` agents (default 100,000) cost the service's gateway socket, decode
 * included. A simulated gateway (this process) answers; a child process holds the service's
 * `GatewayConnection` and makes `FLEET_READS_ROUNDS` rounds (default 6) of both reads, 3 s apart,
 * then idles 10 s. Prints the child's CPU seconds per round (user + system, process.cpuUsage,
 * GC included: the gaps let deferred collection land in its round) and its memory after idling.
 * `FLEET_READS_NODE_FLAGS`: the Node flags for the child (default: those of `npm start`).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, Redacted } from "effect"
import { GatewayConnection } from "../src/gateway/GatewayConnection.ts"
import { sendRequest } from "../src/gateway/sendRequest.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { startFlags } from "./common.ts"

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(0)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Both reads, only their lengths kept (the replies are garbage once this returns). */
const readBoth = (connection: GatewayConnection) =>
  Effect.zip(
    Effect.map(sendRequest(connection, "health", { probe: true }, 120_000), (health) => health.agents?.length ?? 0),
    Effect.map(sendRequest(connection, "agents.list", {}, 120_000), (list) => list.agents.length)
  )

const client = async (url: string, token: string, rounds: number) => {
  const connection = new GatewayConnection({ url, token: Redacted.make(token), handshakeTimeoutMs: 15_000, clientVersion: "bench", onEvent: () => {} })
  await connection.connect()
  await sleep(1_000)
  const cpu = () => {
    const { user, system } = process.cpuUsage()
    return (user + system) / 1e6
  }
  const perRound: Array<number> = []
  let listed = 0
  let sampled = 0
  for (let round = 0; round < rounds; round++) {
    const from = cpu()
    ;[sampled, listed] = await Effect.runPromise(readBoth(connection))
    await sleep(3_000)
    perRound.push(cpu() - from)
  }
  await sleep(10_000)
  if (process.env["FLEET_READS_GC"] === "1") (globalThis as unknown as { gc: () => void }).gc()
  const memory = process.memoryUsage()
  connection.dispose()
  const sorted = [...perRound].sort((a, b) => a - b)
  console.log(
    `  ${sampled.toLocaleString("en")} sampled, ${listed.toLocaleString("en")} listed; CPU s per round (health + agents.list): median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}, all ${perRound.map((s) => s.toFixed(2)).join(" ")}`
  )
  console.log(`  memory after idling 10 s (MiB): rss=${mib(memory.rss)} heapUsed=${mib(memory.heapUsed)} external=${mib(memory.external)} arrayBuffers=${mib(memory.arrayBuffers)}`)
}

export const fleetReads = async () => {
  const size = Number(process.env["FLEET_READS_AGENTS"] ?? 100_000)
  const rounds = Number(process.env["FLEET_READS_ROUNDS"] ?? 6)
  const simulator = await startGatewaySimulator()
  try {
    const config = simulator.state.config as { agents?: { entries?: Record<string, unknown> } }
    const entries = ((config.agents ??= {}).entries ??= {})
    for (let i = 0; i < size; i++) {
      const id = `mc-${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`
      simulator.state.agents.set(id, { id, workspace: `/tmp/sy-fleet/${id}`, agentDir: `/tmp/sy-fleet/agents/${id}`, createdAt: 0, readyAt: 0 })
      entries[id] = { heartbeat: { every: "10m", target: "none" } }
    }
    console.log(`\nfleetReads: ${size.toLocaleString("en")} agents, ${rounds} rounds`)
    const flags = process.env["FLEET_READS_NODE_FLAGS"]?.split(" ").filter((flag) => flag !== "") ?? startFlags(fileURLToPath(new URL("..", import.meta.url)))
    const child = spawn(process.execPath, [...flags, "--import", "tsx", fileURLToPath(import.meta.url), "--client", simulator.url, simulator.token, String(rounds)], { stdio: "inherit" })
    await new Promise<void>((resolve, reject) => child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`client exited ${code}`)))))
  } finally {
    await simulator.stop()
  }
}

const args = process.argv.slice(2)
if (import.meta.url === `file://${process.argv[1]}` && args[0] === "--client") await client(args[1]!, args[2]!, Number(args[3]))
