/**
 * What a service process (`src/main.ts` as a child) costs, read from /proc and from Node's
 * `--cpu-prof` output, for the benchmarks that run the service in a process of its own.
 */
import { readdirSync, readFileSync } from "node:fs"
import path from "node:path"

/** The pid of the service process listening on `url` (found by its `PORT` in /proc), if readable. */
export const servicePid = (url: string): number | undefined => {
  const port = `PORT=${new URL(url).port}`
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("src/main.ts")) continue
      if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(port)) return Number(entry)
    } catch {
      // gone, or not ours
    }
  }
  return undefined
}

/** CPU time (user + system, ms) the process has used so far; 0 when unreadable. */
export const cpuMs = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100
  } catch {
    return 0
  }
}

/** The process's resident set, MiB; 0 when unreadable. */
export const rssMiB = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((entry) => entry.startsWith("VmRSS:"))
    return Number(line?.split(/\s+/)[1] ?? 0) / 1_024
  } catch {
    return 0
  }
}

/** Node's `--cpu-prof` output (the parts read here). */
interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly url: string; readonly functionName: string; readonly lineNumber: number } }>
  readonly samples: ReadonlyArray<number>
}

/** The first `.cpuprofile` Node wrote into `dir`, if any. */
const readProfile = (dir: string): CpuProfile | undefined => {
  const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"))
  return file === undefined ? undefined : (JSON.parse(readFileSync(path.join(dir, file), "utf8")) as CpuProfile)
}

/** The `count` functions with the most self time in `dir`'s profile (idle and GC left out), as "name file:line n%". */
export const profileTopFunctions = (dir: string, count: number): ReadonlyArray<string> => {
  const profile = readProfile(dir)
  if (profile === undefined) return []
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const counts = new Map<string, number>()
  let busy = 0
  for (const id of profile.samples) {
    const frame = frames.get(id)
    if (frame === undefined || frame.functionName === "(idle)" || frame.functionName === "(program)") continue
    busy++
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/.*\/(node_modules|src|machines)\//, "$1/")}:${frame.lineNumber + 1}`
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  return [...counts]
    .sort((x, y) => y[1] - x[1])
    .slice(0, count)
    .map(([name, n]) => `${name} ${((100 * n) / Math.max(1, busy)).toFixed(1)}%`)
}

/** Node's `--cpu-prof` output in `dir`, summed by where each sample's function lives (self time). */
export const profileSummary = (dir: string): string => {
  const profile = readProfile(dir)
  if (profile === undefined) return "no profile written"
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const area = (frame: { url: string; functionName: string }) => {
    if (frame.functionName === "(garbage collector)") return "GC"
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") return frame.functionName
    const url = frame.url
    // Start-up (and lazy imports): not the heartbeats' cost, left out below.
    if (url.startsWith("node:internal/modules") || url.includes("amaro") || ["compileSourceTextModule", "internalModuleStat", "wrapSafe", "realpathSync"].includes(frame.functionName)) return "(loading)"
    for (const name of ["effect", "@effect/sql-pg", "@effect/sql", "@effect/platform-node", "@effect/platform", "pg", "pg-protocol", "xstate", "zod"]) {
      if (url.includes(`/node_modules/${name}/`)) return name
    }
    if (url.includes("/node_modules/")) return "other packages"
    if (url.includes("/src/") || url.includes("/machines/")) return "service code"
    return "node internals"
  }
  const counts = new Map<string, number>()
  for (const id of profile.samples) {
    const key = area(nodes.get(id) ?? { url: "", functionName: "" })
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const busy = [...counts].filter(([key]) => key !== "(idle)" && key !== "(loading)")
  const total = busy.reduce((sum, [, n]) => sum + n, 0)
  return busy
    .sort((x, y) => y[1] - x[1])
    .map(([key, n]) => `${key} ${((100 * n) / Math.max(1, total)).toFixed(0)}%`)
    .join(", ")
}
