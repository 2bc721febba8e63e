/**
 * Template sync of 1,000 agents against the simulator (5 ms a call) and prints: the time to
 * provision them (separately), the time from `POST /templates/sync` to the job's end, its
 * result counts, and the gateway calls of the sync by method with their mean latency.
 * Provisioning goes through the API like an operator's script would: `POST /agents`, 100 in
 * flight, then a wait until every agent is provisioned. `--concurrency N` sets
 * SWITCHYARD_SYNC_CONCURRENCY (default 8). It also prints how busy this process's event loop was
 * during the sync (service, simulator and load share it): near 100%, the figure measures the
 * process's CPU rather than the gateway round trips. `--cpu-prof` profiles this process during
 * the sync alone (node:inspector) and prints where its CPU went, by package, and the top functions.
 */
import { Session } from "node:inspector/promises"
import { performance } from "node:perf_hooks"
import { createTestDatabase } from "../test/support/database.ts"
import { registerGatewayAndBoard, startInProcessService, type InProcessService } from "../test/support/inProcessService.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { pool } from "./common.ts"

const AGENTS = 1_000
const IN_FLIGHT = 100
const flag = process.argv.indexOf("--concurrency")
const concurrency = flag === -1 ? 8 : Number(process.argv[flag + 1])
const PROFILE = process.argv.includes("--cpu-prof")

interface Profile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly url: string; readonly functionName: string; readonly lineNumber: number } }>
  readonly samples: ReadonlyArray<number>
}

/** Self time by package (or the service's own code) and the top functions, idle left out. */
const summarise = (profile: Profile) => {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const byArea = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busy = 0
  for (const id of profile.samples) {
    const frame = frames.get(id)
    if (frame === undefined || frame.functionName === "(idle)") continue
    busy++
    const url = frame.url
    const area =
      frame.functionName === "(garbage collector)"
        ? "GC"
        : url.includes("/node_modules/")
          ? url.replace(/.*\/node_modules\//, "").split("/").slice(0, url.includes("/node_modules/@") ? 2 : 1).join("/")
          : url.includes("/test/support/")
            ? "simulator and test support"
            : url.includes("/src/") || url.includes("/machines/")
              ? "service code"
              : "node internals"
    byArea.set(area, (byArea.get(area) ?? 0) + 1)
    const name = `${frame.functionName || "(anonymous)"} ${url.replace(/.*\/(node_modules|src|machines|test)\//, "$1/")}:${frame.lineNumber + 1}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + 1)
  }
  const top = (counts: Map<string, number>, n: number) =>
    [...counts]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([key, count]) => `${key} ${((100 * count) / Math.max(1, busy)).toFixed(1)}%`)
  return { areas: top(byArea, 12).join(", "), functions: top(byFunction, 15) }
}

const provision = async (service: InProcessService, gatewayId: string, boardId: string) => {
  await pool(AGENTS, IN_FLIGHT, async (i) => {
    const created = await service.api("POST", "/api/v1/agents", { name: `bench-${i}`, board_id: boardId })
    if (created.status !== 201) throw new Error(`agent ${i}: ${created.status} ${JSON.stringify(created.body)}`)
  })
  // Every agent has written its files and been woken once it waits for its check-in.
  for (;;) {
    const provisioned = await Promise.all(
      Array.from({ length: Math.ceil((AGENTS + 1) / 200) }, (_, page) =>
        service.api("GET", `/api/v1/agents?gateway_id=${gatewayId}&limit=200&offset=${page * 200}`)
      )
    )
    const states = provisioned.flatMap((answer) => answer.body.items.map((agent: { state: string }) => agent.state))
    if (states.length >= AGENTS && states.every((state: string) => state === "provisioning.awaiting")) return
    if (states.some((state: string) => state.endsWith("failed"))) throw new Error("an agent failed to provision")
    await new Promise((r) => setTimeout(r, 250))
  }
}

export const syncThousand = async () => {
  const simulator = await startGatewaySimulator({ latencyMs: 5 })
  const db = await createTestDatabase()
  const service = await startInProcessService(db.url, { checkinTimeoutMs: 3_600_000, syncConcurrency: concurrency })
  try {
    const { gatewayId, boardId } = await registerGatewayAndBoard(service, simulator, "bench")
    const provisionStarted = Date.now()
    await provision(service, gatewayId, boardId)
    const provisionMs = Date.now() - provisionStarted

    const session = PROFILE ? new Session() : undefined
    if (session !== undefined) {
      session.connect()
      await session.post("Profiler.enable")
      await session.post("Profiler.start")
    }
    const before = await service.gatewayStats()
    const loopBefore = performance.eventLoopUtilization()
    const started = Date.now()
    // overwrite: USER.md and MEMORY.md are written too, so every agent gets all six of its files.
    const job = await service.api("POST", `/api/v1/gateways/${gatewayId}/templates/sync?overwrite=true`)
    if (job.status !== 202) throw new Error(`sync: ${job.status} ${JSON.stringify(job.body)}`)
    const answeredMs = Date.now() - started
    let result: any
    for (;;) {
      result = (await service.api("GET", `/api/v1/gateways/${gatewayId}/templates/sync/${job.body.job_id}`)).body
      if (result.status === "done" || result.status === "failed") break
      await new Promise((r) => setTimeout(r, 100))
    }
    const syncMs = Date.now() - started
    const profile = session === undefined ? undefined : ((await session.post("Profiler.stop")).profile as unknown as Profile)
    session?.disconnect()
    const loopBusy = performance.eventLoopUtilization(loopBefore).utilization
    const after = await service.gatewayStats()
    const calls = Object.fromEntries(Object.keys(after.calls).map((method) => [method, (after.calls[method] ?? 0) - (before.calls[method] ?? 0)]).filter(([, n]) => n !== 0))
    const mean = Object.fromEntries(
      Object.entries(calls).map(([method, n]) => [method, Math.round(((after.totalMs[method] ?? 0) - (before.totalMs[method] ?? 0)) / Number(n))])
    )
    console.log(`template sync of ${AGENTS} agents (+ the gateway-main agent) against the simulator (5 ms latency), sync concurrency ${concurrency}`)
    console.log(`  provisioning ${AGENTS} agents through POST /agents (${IN_FLIGHT} in flight): ${provisionMs} ms`)
    console.log(`  POST /templates/sync answered in ${answeredMs} ms; job ${result.status} after ${syncMs} ms (${Math.round((AGENTS + 1) / (syncMs / 1000))} agents/s)`)
    console.log(`  result: ${JSON.stringify(result.progress)}, main_updated ${result.main_updated}, errors ${result.errors.length}`)
    console.log(`  gateway calls of the sync by method: ${JSON.stringify(calls)}`)
    console.log(`  mean latency by method (ms): ${JSON.stringify(mean)}`)
    console.log(`  this process's event loop was busy ${Math.round(loopBusy * 100)}% of the sync`)
    if (profile !== undefined) {
      const { areas, functions } = summarise(profile)
      console.log(`  CPU of the sync by area (self time): ${areas}`)
      console.log(`  top functions: ${functions.join("; ")}`)
    }
  } finally {
    await service.stop()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await syncThousand()
