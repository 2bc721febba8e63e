/**
 * The CPU the sync's own machinery costs per agent, in-process: `runSyncJob` over the fake fleet
 * and the in-memory job repository of the sync tests (each agent's apply a 1 ms timer, no
 * gateway, no database), `agents` agents at concurrency 8, `rounds` jobs after a warm-up job.
 * Prints the process's CPU (user + system) per agent, the fibers started per agent (a supervisor
 * counting them, run once more after the timed rounds) and the wall time per job. For an A/B of
 * the sync's per-agent overhead (docs/architecture.md §9.2): run it in both checkouts, alternated.
 *
 *   tsx bench/syncCpu.ts [rounds=5] [agents=1000]
 */
import { randomUUID } from "node:crypto"
import { Effect, Layer, Supervisor } from "effect"
import { AppConfigTest } from "../src/config/AppConfig.ts"
import { SyncJobRepo } from "../src/store/SyncJobRepo.ts"
import { runSyncJob } from "../src/sync/runSyncJob.ts"
import { makeSyncJobFeed } from "../src/sync/SyncJobFeed.ts"
import { GATEWAY_ID, makeFakeFleet } from "../test/sync/fakeFleet.ts"
import { makeMemorySyncJobRepo } from "../test/sync/memorySyncJobRepo.ts"

const rounds = Number(process.argv[2] ?? 5)
const agents = Number(process.argv[3] ?? 1000)
const BOARD = "00000000-0000-4000-8000-0000000000a1"

const fleet = makeFakeFleet({ applyMs: 1 })
fleet.boards.set(BOARD, { paused: false })
for (let index = 0; index < agents; index++) await fleet.addOnline({ id: randomUUID(), name: `w${index}`, boardId: BOARD, role: "worker" })
const memory = makeMemorySyncJobRepo(fleet.candidates)
const layer = Layer.mergeAll(fleet.layer, memory.layer, AppConfigTest({ syncConcurrency: 8, syncAgentTimeoutMs: 60_000, retryBaseMs: 10 }))
const options = { includeMain: false, leadOnly: false, resetSessions: false, rotateTokens: false, forceBootstrap: false, overwrite: false, boardId: null }

const job = Effect.gen(function* () {
  const repo = yield* SyncJobRepo
  const row = yield* repo.insert({ id: randomUUID(), gatewayId: GATEWAY_ID, options })
  yield* runSyncJob(row.id, yield* makeSyncJobFeed(row))
}).pipe(Effect.provide(layer))

await Effect.runPromise(job)
const cpu = process.cpuUsage()
const started = performance.now()
for (let round = 0; round < rounds; round++) await Effect.runPromise(job)
const used = process.cpuUsage(cpu)
/** Counts the fibers started under it. */
class FiberCount extends Supervisor.AbstractSupervisor<number> {
  started = 0
  get value() {
    return Effect.sync(() => this.started)
  }
  override onStart() {
    this.started += 1
  }
}
const counter = new FiberCount()
await Effect.runPromise(Effect.supervised(job, counter))
console.log(
  JSON.stringify({ agents, rounds, cpuMsPerAgent: Math.round(((used.user + used.system) / 1000 / (rounds * agents)) * 1000) / 1000, fibersPerAgent: Math.round((counter.started / agents) * 100) / 100, wallMsPerJob: Math.round((performance.now() - started) / rounds) })
)
fleet.stop()
