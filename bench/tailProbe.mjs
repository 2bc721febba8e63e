// Preloaded into the service by bench/heartbeatTail.ts (`--probe bench/tailProbe.mjs`, `node --import`).
// The first SIGUSR2 starts recording; the next writes JSON to `HBPROBE_OUT` and starts again:
// `eld` event-loop delay percentiles (ms), `gcs` [epoch ms, ms, kind], `stalls` [epoch ms, ms] (a 2 ms
// interval timer that fired over 6 ms late), `allocated` bytes (heap growth summed between 2 ms samples), `batches` [epoch ms, rows saved, ms] (each group-commit
// statement, timed around the pg client's callback).
import { Session } from "node:inspector"
import { createRequire } from "node:module"
import { writeFileSync } from "node:fs"
import { getHeapStatistics } from "node:v8"
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks"

const require = createRequire(`${process.cwd()}/`)
const epoch = () => performance.timeOrigin + performance.now()
let gcs = []
let stalls = []
let batches = []
const eld = monitorEventLoopDelay({ resolution: 1 })
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcs.push([performance.timeOrigin + entry.startTime, entry.duration, entry.detail?.kind ?? 0])
}).observe({ entryTypes: ["gc"] })
let last = performance.now()
// V8's own count: `process.memoryUsage()` also reads the RSS from /proc every call (~3% of the service's CPU at 2 ms).
const heapUsed = () => getHeapStatistics().used_heap_size
let heap = heapUsed()
let allocated = 0
setInterval(() => {
  const used = heapUsed()
  if (used > heap) allocated += used - heap
  heap = used
  const now = performance.now()
  const late = now - last - 2
  if (late > 6) stalls.push([performance.timeOrigin + last + 2, late])
  last = now
}, 2).unref()
try {
  const pg = require("pg")
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (config, values, callback) {
    const text = typeof config === "string" ? config : config?.text
    if (typeof callback === "function" && typeof text === "string" && text.includes("update agents a set")) {
      const at = epoch()
      const t0 = performance.now()
      return query.call(this, config, values, (err, result) => {
        batches.push([at, result?.rowCount ?? 0, performance.now() - t0])
        callback(err, result)
      })
    }
    return query.call(this, config, values, callback)
  }
} catch (error) {
  process.stderr.write(`[probe] pg not hooked: ${error}\n`)
}
// HBPROBE_HEAP=FILE: a sampling heap profile of everything allocated while recording (collected objects included).
const heapOut = process.env.HBPROBE_HEAP
const session = heapOut === undefined ? undefined : new Session()
session?.connect()
let recording = false
process.on("SIGUSR2", () => {
  if (session !== undefined) {
    if (recording) session.post("HeapProfiler.stopSampling", (err, result) => err || writeFileSync(heapOut, JSON.stringify(result.profile)))
    else session.post("HeapProfiler.startSampling", { samplingInterval: 8192, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true })
  }
  if (recording && process.env.HBPROBE_OUT) {
    const ms = (ns) => ns / 1e6
    writeFileSync(process.env.HBPROBE_OUT, JSON.stringify({
      eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), p999: ms(eld.percentile(99.9)), max: ms(eld.max), mean: ms(eld.mean) },
      gcs, stalls, batches, allocated
    }))
  }
  recording = true
  gcs = []; stalls = []; batches = []; allocated = 0
  eld.reset(); eld.enable()
})
