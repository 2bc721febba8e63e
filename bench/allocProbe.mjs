// Preloaded into the service by bench/heartbeatAlloc.ts (`node --import`): what the service
// allocated while recording. The first SIGUSR2 starts V8's sampling heap profiler (every
// `ALLOC_INTERVAL` bytes, default 8192, objects collected by scavenges and mark-compacts kept, so
// the samples estimate every allocation, not only what survived) and counts GCs by kind; the next
// writes JSON to `ALLOC_OUT`: `sampled` (estimated bytes allocated), `scavenges`, `marks`,
// `cpuMs` (process user + system), `sites` [[package, function, url:line, bytes]] (by
// allocating function, biggest first).
import { Session } from "node:inspector"
import { writeFileSync } from "node:fs"
import { PerformanceObserver, constants } from "node:perf_hooks"

const session = new Session()
session.connect()
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))))
let recording = false
let scavenges = 0
let marks = 0
let cpuFrom = 0
new PerformanceObserver((list) => {
  if (!recording) return
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++
    else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) marks++
  }
}).observe({ entryTypes: ["gc"] })
const cpu = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}
/** `node_modules/<pkg>` (scoped too) of a script url, `node:` for Node's own, else `service`. */
const packageOf = (url) => {
  if (url === "") return "(native)"
  if (url.startsWith("node:")) return "node"
  const at = url.lastIndexOf("node_modules/")
  if (at === -1) return "service"
  const [first, second] = url.slice(at + 13).split("/")
  return first.startsWith("@") ? `${first}/${second}` : first
}
const summarise = (profile) => {
  const sites = new Map()
  let sampled = 0
  // A native frame (a builtin: Map.set, Array iterator next) is named with its nearest JS caller.
  // `ALLOC_PATHS` (comma-separated `file.js:line` ends): the call paths that allocated there, `ALLOC_DEPTH` frames up, default 10.
  const wanted = (process.env.ALLOC_PATHS ?? "").split(",").filter((end) => end !== "")
  const paths = new Map()
  const stack = []
  const walk = (node, caller) => {
    const self = node.selfSize
    const frame = node.callFrame
    stack.push(`${frame.functionName || "(anonymous)"}@${frame.url.replace(/^.*\/(node_modules|src|machines)\//, "")}:${frame.lineNumber + 1}`)
    const site = frame.url !== "" || caller === undefined ? frame : caller
    if (self > 0 && wanted.some((end) => `${site.url}:${site.lineNumber + 1}`.endsWith(end))) {
      const key = stack.slice(-Number(process.env.ALLOC_DEPTH ?? 10)).reverse().join(" < ")
      paths.set(key, (paths.get(key) ?? 0) + self)
    }
    const own = node.callFrame.url !== "" || caller === undefined ? node.callFrame : caller
    if (self > 0) {
      const { functionName, url, lineNumber } = own
      const name = own === node.callFrame ? functionName || "(anonymous)" : `${node.callFrame.functionName} in ${functionName || "(anonymous)"}`
      const key = `${packageOf(url)}\t${name}\t${url.replace(/^.*\/(node_modules|src|machines)\//, "$1/")}:${lineNumber + 1}`
      sites.set(key, (sites.get(key) ?? 0) + self)
      sampled += self
    }
    for (const child of node.children) walk(child, own.url === "" ? undefined : own)
    stack.pop()
  }
  walk(profile.head, undefined)
  return { sampled, paths: [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40), sites: [...sites.entries()].sort((a, b) => b[1] - a[1]).slice(0, 200).map(([key, bytes]) => [...key.split("\t"), bytes]) }
}
process.on("SIGUSR2", () => {
  if (!recording) {
    scavenges = 0
    marks = 0
    cpuFrom = cpu()
    recording = true
    post("HeapProfiler.startSampling", {
      samplingInterval: Number(process.env.ALLOC_INTERVAL ?? 8192),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true
    }).catch((error) => console.error("allocProbe:", error))
    return
  }
  recording = false
  const cpuMs = cpu() - cpuFrom
  post("HeapProfiler.stopSampling", {}).then(({ profile }) => {
    writeFileSync(process.env.ALLOC_OUT, JSON.stringify({ ...summarise(profile), scavenges, marks, cpuMs }))
  }, (error) => console.error("allocProbe:", error))
})
