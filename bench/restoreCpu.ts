/**
 * Restore CPU in process: `RESTORE_N` (default 20,000) stored online agents, as the database
 * reads them back (the `seedOnlineFleet` template, one `JSON.parse` per row, as pg decodes
 * jsonb), restored page by page through `makeRowRestorer` with the service's starter (writers,
 * deadlines; programs stubbed). Prints CPU ms per 1,000 agents for the decode alone and for the
 * restore, and the versions restore offered (0 for an unchanged fleet). No database, no service:
 * a quick A/B of the per-agent restore work (`node bench/restoreCpu.ts`; `--cpu-prof` for a profile;
 * `RESTORE_HEAP=file.heapsnapshot` writes the heap after restore, for `bench/heapSummary.ts`;
 * with `--expose-gc` it also prints the heap bytes each restored agent keeps, after a full collection).
 */
import { PerformanceObserver } from "node:perf_hooks"
import { writeHeapSnapshot } from "node:v8"
import { Effect } from "effect"
import { fromCallback } from "xstate"
import { agentMachine } from "../machines/agent/agentMachine.ts"
import type { AgentPolicy } from "../machines/agent/agentTypes.ts"
import { agentDeadlines } from "../src/agents/agentDeadlines.ts"
import { makeRowRestorer } from "../src/agents/restoreRows.ts"
import { makeActorStarter, type AgentEntry } from "../src/agents/startAgentActor.ts"
import type { StoredSnapshotAt } from "../src/store/AgentRepo.ts"
import { LIVENESS_LIMITS, onlineSnapshotTemplate } from "../test/agents/onlineFleet.ts"

const policy: AgentPolicy = { offlineAfterMs: 3_600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000, ...LIVENESS_LIMITS }
const count = Number(process.env["RESTORE_N"] ?? 20_000)
const PAGE = 1_000
const gatewayId = "00000000-0000-4000-8000-0000000000aa"
const collect = (globalThis as { gc?: () => void }).gc
collect?.()
const heapBefore = process.memoryUsage().heapUsed
const template = onlineSnapshotTemplate(policy, Date.now())
  .replaceAll("__GATEWAY__", gatewayId)
  .replaceAll("__BOARD__", "00000000-0000-4000-8000-0000000000bb")
let texts = Array.from({ length: count }, (_, i) => {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`
  return { id, text: template.replaceAll("__ID__", id).replaceAll("__NAME__", `Agent ${i}`).replaceAll("__TOKEN_HASH__", `hash${i}`) }
})

const cpuMs = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1_000
}

let offered = 0
const entries = new Map<string, AgentEntry>()
const starter = makeActorStarter({
  entries,
  persist: () => void (offered += 1),
  runFork: () => undefined,
  transitionsKeepPerAgent: 500,
  deadlines: agentDeadlines()
})
const idle = fromCallback(() => () => undefined)
const logic = agentMachine.provide({ actors: { applyAgent: idle, wakeAgent: idle, removeAgent: idle } as never })
const failures = new Map()

const decodeFrom = cpuMs()
let rows: Array<StoredSnapshotAt> = texts.map(({ id, text }, i) => ({ id, snapshot: JSON.parse(text) as unknown, machineVersion: "1", version: "1", cursor: String(i) }) as unknown as StoredSnapshotAt)
const decodeMs = cpuMs() - decodeFrom

const restorer = makeRowRestorer(
  {
    logic,
    starter,
    failures,
    policy: () => policy,
    readPage: (_gateway, after) => Effect.sync(() => rows.slice(after === undefined ? 0 : Number(after) + 1, (after === undefined ? 0 : Number(after) + 1) + PAGE))
  },
  PAGE
)
// GC pauses during the restore alone (main thread; parallel helpers' time shows in CPU only).
const gc = { count: 0, ms: 0 }
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count += 1
    gc.ms += entry.duration
  }
})
observer.observe({ entryTypes: ["gc"] })
const restoreFrom = cpuMs()
const restored = await Effect.runPromise(restorer.restoreGateway(gatewayId, { after: undefined, restored: 0 }, Effect.void))
const restoreMs = cpuMs() - restoreFrom
await new Promise((resolve) => setTimeout(resolve, 10))
observer.disconnect()
console.log(
  `restoreCpu: ${restored} of ${count} restored (${failures.size} failures); CPU ms per 1,000 agents: JSON decode ${((1_000 * decodeMs) / count).toFixed(1)}, restore ${((1_000 * restoreMs) / count).toFixed(1)}; GC during restore ${gc.count} pauses, ${((1_000 * gc.ms) / count).toFixed(1)} ms per 1,000; writes offered ${offered}; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`
)
// Only what the restored actors keep: the rows and their texts go.
texts = []
rows = []
if (collect !== undefined) {
  collect()
  console.log(`restoreCpu: heap kept per agent ${((process.memoryUsage().heapUsed - heapBefore) / count).toFixed(0)} bytes (after a full collection)`)
}
const heapFile = process.env["RESTORE_HEAP"]
if (heapFile !== undefined) writeHeapSnapshot(heapFile)
