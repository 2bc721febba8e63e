/**
 * Heartbeat → SSE latency, this checkout (B) against another (A, e.g. /work/main):
 * `npx tsx bench/heartbeatToSseAB.ts A_DIR [--rounds N] [--sse-rates 100,1000,5000] [--seconds S] [--agents N]`.
 *
 * One fleet is built (as `heartbeatThroughput` builds it), its database copied twice, and each
 * checkout's `src/main.ts` started on its own copy against the same simulator. Each round runs
 * every rate on A and on B in turn (the order alternating by round), one service at a time, each
 * with its own SSE client and load generator processes (`heartbeatThroughput`'s `sseLatency`),
 * so both builds see the same window of a busy machine. Prints each run, then per rate and build
 * the median over rounds of: POST → event p50/p99, answer → event p50/p99 (the stream's own
 * share), and the service's CPU per heartbeat during the run (user + system, from /proc).
 */
import path from "node:path"
import { fileURLToPath } from "node:url"
import { createTestDatabase } from "../test/support/database.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, percentile } from "./common.ts"
import { abFleet, startAt } from "./heartbeatCpuAB.ts"
import { serviceEnv, sseFigures, sseLatency } from "./heartbeatThroughput.ts"
import { cpuMs } from "./processStats.ts"

const HERE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const ADMIN_TOKEN = "test-admin-token-0123456789"
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Runs the A/B and prints each run and the medians per rate and build. */
export const heartbeatToSseAB = async (baseRoot: string) => {
  const rounds = flag("--rounds", 4)
  const seconds = flag("--seconds", 5)
  const agents = flag("--agents", 1_000)
  const ratesAt = process.argv.indexOf("--sse-rates")
  const rates = ratesAt === -1 ? [100, 1_000] : (process.argv[ratesAt + 1] ?? "").split(",").map(Number)
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  const copies: Array<{ drop: () => Promise<void> }> = []
  const services: Array<{ stop: () => Promise<void> }> = []
  try {
    const tokens = await abFleet(db.url, simulator, agents)
    const copyA = await createTestDatabase({ template: db.url })
    copies.push(copyA)
    const copyB = await createTestDatabase({ template: db.url })
    copies.push(copyB)
    const a = await startAt(baseRoot, serviceEnv(copyA.url))
    services.push(a)
    const b = await startAt(HERE_ROOT, serviceEnv(copyB.url))
    services.push(b)
    await sleep(3_000)
    type Figures = Awaited<ReturnType<typeof sseLatency>> & { readonly cpu: number }
    const results = new Map<string, Array<Figures>>()
    const run = async (name: "A" | "B", service: { url: string; pid: number }, rate: number) => {
      const from = cpuMs(service.pid)
      const figures = await sseLatency({ url: service.url, adminToken: ADMIN_TOKEN }, tokens, rate, seconds)
      const cpu = (cpuMs(service.pid) - from) / Math.max(1, figures.sent)
      const key = `${rate} ${name}`
      results.set(key, [...(results.get(key) ?? []), { ...figures, cpu }])
      console.log(`  ${name} at ${rate}/s: ${sseFigures(figures)}; service CPU ${cpu.toFixed(3)} ms/heartbeat`)
    }
    for (let round = 0; round < rounds; round++) {
      console.log(`round ${round + 1}`)
      for (const rate of rates) {
        if (round % 2 === 0) await run("A", a, rate).then(() => run("B", b, rate))
        else await run("B", b, rate).then(() => run("A", a, rate))
      }
    }
    const median = (values: ReadonlyArray<number>) => percentile([...values], 50).toFixed(1)
    console.log(`heartbeatToSseAB: ${rounds} rounds, ${seconds} s a run, ${agents} agents; medians over rounds (ms):`)
    for (const rate of rates) {
      for (const name of ["A", "B"]) {
        const runs = results.get(`${rate} ${name}`) ?? []
        console.log(
          `  ${rate}/s ${name}: POST → event p50 ${median(runs.map((r) => r.p50))}, p99 ${median(runs.map((r) => r.p99))}; ` +
            `answer → event p50 ${median(runs.map((r) => r.answerP50))}, p99 ${median(runs.map((r) => r.answerP99))}; ` +
            `POST answered p99 ${median(runs.map((r) => r.postP99))}; CPU ${percentile(runs.map((r) => r.cpu), 50).toFixed(3)} ms/heartbeat; ` +
            `delivered ${runs.map((r) => `${r.delivered}/${r.sent}`).join(" ")}`
        )
      }
    }
  } finally {
    for (const service of services) await service.stop()
    for (const copy of copies) await copy.drop()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2]
  if (base === undefined || base.startsWith("--")) throw new Error("usage: heartbeatToSseAB.ts BASE_CHECKOUT_DIR [--rounds N] [--sse-rates 100,1000] [--seconds S] [--agents N]")
  await heartbeatToSseAB(path.resolve(base))
}
