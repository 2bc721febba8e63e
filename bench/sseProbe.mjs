// Preloaded into the service by bench/sseTail.ts (`node --import`): what the heartbeat → SSE
// path did, with epoch-ms stamps. The first SIGUSR2 starts recording; the next writes JSON to
// `HBPROBE_OUT`: `gcs` [at, ms, kind], `stalls` [at, ms, main-thread CPU ms, run-queue wait ms] (a 2 ms interval timer over 6 ms late),
// `batches` [at, rows, ms] (each group-commit statement), `reads` [at, ms, rows, frontier] (each
// change-feed read), `notices` [at, xid] (each notification the listener got), `writes` [at,
// bytes] (each write to a text/event-stream response).
import http from "node:http"
import { createRequire } from "node:module"
import { readFileSync, writeFileSync } from "node:fs"
import { performance, PerformanceObserver } from "node:perf_hooks"

const require = createRequire(`${process.cwd()}/`)
const epoch = () => performance.timeOrigin + performance.now()
let recording = false
let gcs = [], stalls = [], batches = [], reads = [], notices = [], writes = []
new PerformanceObserver((list) => {
  if (recording) for (const entry of list.getEntries()) gcs.push([performance.timeOrigin + entry.startTime, entry.duration, entry.detail?.kind ?? 0])
}).observe({ entryTypes: ["gc"] })
// A stall's main-thread CPU (ms) and run-queue wait (ms, `/proc/thread-self/schedstat`): a stall
// with CPU near its length was the loop's own work (a GC pause, a long task); one with a long
// run-queue wait was the machine's (the thread not scheduled).
const schedstat = () => readFileSync("/proc/thread-self/schedstat", "utf8").split(" ").map((ns) => Number(ns) / 1e6)
let last = performance.now()
let [lastCpu = 0, lastWait = 0] = schedstat()
setInterval(() => {
  const now = performance.now()
  const [cpu = 0, wait = 0] = schedstat()
  const late = now - last - 2
  if (recording && late > 6) stalls.push([performance.timeOrigin + last + 2, late, cpu - lastCpu, wait - lastWait])
  last = now
  lastCpu = cpu
  lastWait = wait
}, 2).unref()
const pg = require("pg")
const query = pg.Client.prototype.query
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === "string" ? config : config?.text
  const cb = typeof values === "function" ? values : callback
  if (recording && typeof cb === "function" && typeof text === "string") {
    const kind = text.includes("update agents a set") ? "batch" : text.includes("with f as materialized") ? "read" : undefined
    if (kind !== undefined) {
      const at = epoch()
      const wrapped = (err, result) => {
        const ms = epoch() - at
        if (kind === "batch") batches.push([at, result?.rowCount ?? 0, ms])
        else reads.push([at, ms, result?.rowCount ?? 0, Number(result?.rows?.[0]?.frontier ?? 0)])
        cb(err, result)
      }
      return typeof values === "function" ? query.call(this, config, wrapped) : query.call(this, config, values, wrapped)
    }
  }
  return query.call(this, config, values, callback)
}
const emit = pg.Client.prototype.emit
pg.Client.prototype.emit = function (name, message) {
  if (recording && name === "notification") notices.push([epoch(), Number(message?.payload)])
  return emit.apply(this, arguments)
}
const write = http.ServerResponse.prototype.write
http.ServerResponse.prototype.write = function (chunk) {
  if (recording && String(this._header ?? "").includes("text/event-stream")) writes.push([epoch(), chunk?.length ?? 0])
  return write.apply(this, arguments)
}
process.on("SIGUSR2", () => {
  if (recording && process.env.HBPROBE_OUT) writeFileSync(process.env.HBPROBE_OUT, JSON.stringify({ gcs, stalls, batches, reads, notices, writes }))
  recording = true
  gcs = []; stalls = []; batches = []; reads = []; notices = []; writes = []
})
