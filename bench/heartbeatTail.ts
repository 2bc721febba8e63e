/**
 * What the heartbeat latency tail is made of at a fixed rate (open loop), on one or more
 * checkouts run in turn, round after round, on copies of one fleet:
 * `npx tsx bench/heartbeatTail.ts [DIR ...] [--rate R] [--seconds S] [--rounds N] [--agents N] [--probe FILE]`
 * (no DIR: this checkout; `--node-flags "..."` replaces the `npm start` Node flags; `DIR::FLAGS`, e.g.
 * `.::--max-semi-space-size=4`, runs DIR with FLAGS instead, so one checkout can be compared under two flag sets). Per run it prints the latency p50/p90/p99/p99.9/max, the service's CPU
 * per heartbeat, and from the service's `/metrics` before and after the run: GC pauses by kind
 * (count, total, per heartbeat), the event-loop lag, the group commit's batches (writes each,
 * commit time) and event → saved. With `--probe FILE` (a Node `--import` preload that writes JSON to
 * `HBPROBE_OUT` on SIGUSR2: `eld` event-loop delay percentiles in ms, `gcs` [epoch ms, duration
 * ms, kind], `stalls` [epoch ms, ms], and `batches` [epoch ms, writes, commit ms] if it can see them), the event-loop
 * delay, GC pauses and, for the slowest 1% of requests, how many overlapped a GC pause, an
 * event-loop stall or a commit over 10 ms; with `--cpu-prof`, where the service's CPU went (whole
 * run, start-up left out). The service runs with its `npm start` Node flags.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { createTestDatabase } from "../test/support/database.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, percentile, startFlags } from "./common.ts"
import { abFleet, startAt } from "./heartbeatCpuAB.ts"
import { load, serviceEnv } from "./heartbeatThroughput.ts"
import { cpuMs, profileSummary, profileTopFunctions } from "./processStats.ts"

const HERE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const HEARTBEAT = "/api/v1/agent/heartbeat"
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))
const ms = (value: number) => value.toFixed(1)
const flagsAt = process.argv.indexOf("--node-flags")
/** `--node-flags "--max-semi-space-size=4 ..."`: the service's Node flags instead of its `npm start` ones (`""`: none). */
const NODE_FLAGS = flagsAt === -1 ? undefined : (process.argv[flagsAt + 1] ?? "").split(" ").filter((flag) => flag !== "")

interface Probe {
  readonly eld: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number; readonly mean: number }
  readonly gcs: ReadonlyArray<[number, number, number]>
  readonly stalls: ReadonlyArray<[number, number]>
  readonly batches: ReadonlyArray<[number, number, number]>
  /** Bytes allocated on the JS heap (heap growth summed between samples), if the probe counts them. */
  readonly allocated?: number
}

const overlaps = (from: number, to: number, spans: ReadonlyArray<readonly [number, number]>) => spans.some(([at, length]) => at < to && at + length > from)

/** The service's `/metrics` as `series → value` (`name{labels}` as written). */
const scrape = async (url: string): Promise<ReadonlyMap<string, number>> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const series = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const at = line.lastIndexOf(" ")
    series.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return series
}

/** The `p`th percentile of a histogram's observations between two scrapes, as the upper bound of its bucket. */
const bucketPercentile = (before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, name: string, p: number) => {
  const buckets = [...after].filter(([key]) => key.startsWith(`${name}_bucket{`)).map(([key, value]) => [Number((/le="([^"]+)"/.exec(key)?.[1] ?? "NaN").replace("+Inf", "Infinity")), value - (before.get(key) ?? 0)] as const)
  const total = buckets.find(([le]) => le === Number.POSITIVE_INFINITY)?.[1] ?? 0
  return buckets.sort((a, b) => a[0] - b[0]).find(([, count]) => count >= (p / 100) * total)?.[0] ?? 0
}

/** What `/metrics` says of a run: GC pauses by kind, event-loop lag, group commit batches and commit times, event → saved. */
const metricsLine = (before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, heartbeats: number) => {
  const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0)
  const gc = ["minor", "major", "incremental", "weakcb"].map((kind) => `${kind} ${delta(`nodejs_gc_duration_seconds_count{kind="${kind}"}`)}×, ${ms(1_000 * delta(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`))} ms`)
  const lag = (name: string) => ms(1_000 * (after.get(`nodejs_eventloop_lag_${name}_seconds`) ?? 0))
  const batches = delta("switchyard_group_commit_writes_count")
  const le = (name: string, p: number) => `${ms(1_000 * bucketPercentile(before, after, name, p))}`
  return [
    `GC ${gc.join("; ")} (${ms((1_000 * [...after.keys()].filter((key) => key.startsWith("nodejs_gc_duration_seconds_sum")).reduce((sum, key) => sum + delta(key), 0)) / Math.max(1, heartbeats))} ms/heartbeat)`,
    `event-loop lag p50 ${lag("p50")} p99 ${lag("p99")} max ${lag("max")} ms`,
    `batches ${batches} (${(delta("switchyard_group_commit_writes_sum") / Math.max(1, batches)).toFixed(1)} writes each, ${delta('switchyard_group_commit_lane_starts_total{reason="stalled"}')} beside a stalled one), commit mean ${ms((1_000 * delta("switchyard_group_commit_seconds_sum")) / Math.max(1, batches))} ms, p99 ≤ ${le("switchyard_group_commit_seconds", 99)} ms`,
    `event → saved p50 ≤ ${le("switchyard_agent_event_persist_seconds", 50)} ms, p99 ≤ ${le("switchyard_agent_event_persist_seconds", 99)} ms`
  ].join("; ")
}

/** One measured run of the service in `root` on database `url`; prints one block. */
const run = async (target: string, url: string, tokens: ReadonlyArray<string>, rate: number, seconds: number, probe: string | undefined) => {
  const out = path.join("/tmp", `hbprobe-${process.pid}-${Math.random().toString(36).slice(2)}.json`)
  const profileDir = process.argv.includes("--cpu-prof") ? mkdtempSync(path.join(tmpdir(), "hb-tail-prof-")) : undefined
  const [root = target, own] = target.split("::")
  const ownFlags = own === undefined ? undefined : own.split(" ").filter((flag) => flag !== "")
  const flags = [...(ownFlags ?? NODE_FLAGS ?? startFlags(root)), ...(probe === undefined ? [] : [`--import=${probe}`]), ...(profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`])]
  const service = await startAt(root, { ...serviceEnv(url), HBPROBE_OUT: out }, flags)
  try {
    await sleep(2_000)
    await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds: 2, inFlight: 512 })
    if (probe !== undefined) process.kill(service.pid, "SIGUSR2")
    await sleep(300)
    const before = await scrape(service.url)
    const cpuFrom = cpuMs(service.pid)
    const result = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds, keys: true, inFlight: 512 })
    const cpu = (cpuMs(service.pid) - cpuFrom) / Math.max(1, result.ok)
    const after = await scrape(service.url)
    const latencies = result.keys.map(([, sent, answered]) => answered - sent)
    const line = [
      `${path.basename(root)}${own === undefined ? "" : ` (${own})`}: ${result.ok} ok, ${result.failed} failed, ${(result.ok / result.seconds).toFixed(0)}/s`,
      `latency p50 ${ms(percentile(latencies, 50))} p90 ${ms(percentile(latencies, 90))} p99 ${ms(percentile(latencies, 99))} p99.9 ${ms(percentile(latencies, 99.9))} max ${ms(Math.max(...latencies))} ms`,
      `CPU ${cpu.toFixed(3)} ms/heartbeat`
    ]
    console.log(`  ${line.join("; ")}`)
    console.log(`    ${metricsLine(before, after, result.ok)}`)
    if (probe === undefined) return
    process.kill(service.pid, "SIGUSR2")
    for (let tries = 0; tries < 50 && !existsSync(out); tries++) await sleep(100)
    await sleep(200)
    const figures = JSON.parse(readFileSync(out, "utf8")) as Probe
    if (process.argv.includes("--keep")) console.log(`    probe figures kept in ${out}`)
    else rmSync(out)
    const pauses = figures.gcs.map(([, length]) => length)
    const commits = figures.batches.map(([, , length]) => length)
    const sizes = figures.batches.map(([, size]) => size)
    const slowAt = percentile(latencies, 99)
    const slow = result.keys.filter(([, sent, answered]) => answered - sent >= slowAt)
    const gcSpans = figures.gcs.map(([at, length]) => [at, length] as const)
    const longCommits = figures.batches.filter(([, , length]) => length > 10).map(([at, , length]) => [at, length] as const)
    console.log(
      `    event-loop delay p50 ${ms(figures.eld.p50)} p99 ${ms(figures.eld.p99)} p99.9 ${ms(figures.eld.p999)} max ${ms(figures.eld.max)} ms; ` +
        `GC ${pauses.length} pauses (${figures.gcs.filter(([, , kind]) => kind === 1).length} scavenges), ${ms(pauses.reduce((a, b) => a + b, 0))} ms in all, p99 ${ms(percentile(pauses, 99))} max ${ms(Math.max(0, ...pauses))} ms; ` +
        `stalls > 6 ms: ${figures.stalls.length} (max ${ms(Math.max(0, ...figures.stalls.map(([, length]) => length)))} ms)` +
        (figures.allocated === undefined ? "" : `; allocated ${(figures.allocated / 1_024 / Math.max(1, result.ok)).toFixed(1)} KiB/heartbeat`)
    )
    if (figures.batches.length > 0) {
      console.log(
        `    batches ${figures.batches.length}: writes p50 ${percentile(sizes, 50)} p99 ${percentile(sizes, 99)} max ${Math.max(...sizes)}; ` +
          `commit p50 ${ms(percentile(commits, 50))} p99 ${ms(percentile(commits, 99))} max ${ms(Math.max(...commits))} ms`
      )
    }
    if (figures.batches.length > 0) {
      // Each slow request's batch: the one that ended last before its answer among those started after it was sent.
      const parts = slow.flatMap(([, sent, answered, left]) => {
        let own: readonly [number, number, number] | undefined
        for (const batch of figures.batches) if (batch[0] >= sent && batch[0] + batch[2] <= answered && (own === undefined || batch[0] + batch[2] > own[0] + own[2])) own = batch
        return own === undefined ? [] : [[left - sent, own[0] - left, own[2], answered - own[0] - own[2]] as const]
      })
      const p50 = (i: 0 | 1 | 2 | 3) => ms(percentile(parts.map((part) => part[i]), 50))
      console.log(
        `    slowest 1%, their batch found for ${parts.length}: sent late (the generator) p50 ${p50(0)} ms, then before their batch started p50 ${p50(1)} ms, its commit p50 ${p50(2)} ms, after it p50 ${p50(3)} ms`
      )
    }
    console.log(
      `    slowest 1% (${slow.length}, ≥ ${ms(slowAt)} ms): ${slow.filter(([, s, a]) => overlaps(s, a, gcSpans)).length} overlap a GC pause, ` +
        `${slow.filter(([, s, a]) => overlaps(s, a, figures.stalls)).length} a stall > 6 ms, ${slow.filter(([, s, a]) => overlaps(s, a, longCommits)).length} a commit > 10 ms`
    )
  } finally {
    await service.stop()
    if (profileDir !== undefined) console.log(`    CPU by area (${profileDir}): ${profileSummary(profileDir)}\n    top: ${profileTopFunctions(profileDir, 12).join("; ")}`)
  }
}

const main = async () => {
  const roots = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith("--") && !(all[i - 1] ?? "").startsWith("--")).map((dir) => {
    const [root = dir, own] = dir.split("::")
    return own === undefined ? path.resolve(root) : `${path.resolve(root)}::${own}`
  })
  if (roots.length === 0) roots.push(HERE_ROOT)
  const rate = flag("--rate", 1_750)
  const seconds = flag("--seconds", 8)
  const rounds = flag("--rounds", 1)
  const agents = flag("--agents", 1_000)
  const probeAt = process.argv.indexOf("--probe")
  const probe = probeAt === -1 ? undefined : path.resolve(process.argv[probeAt + 1] ?? "")
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  const copies: Array<{ drop: () => Promise<void> }> = []
  try {
    const tokens = await abFleet(db.url, simulator, agents)
    console.log(`heartbeatTail: ${agents} agents, ${rate}/s open loop for ${seconds} s, ${rounds} round(s)`)
    for (let round = 0; round < rounds; round++) {
      for (const root of round % 2 === 0 ? roots : [...roots].reverse()) {
        const copy = await createTestDatabase({ template: db.url })
        copies.push(copy)
        await run(root, copy.url, tokens, rate, seconds, probe)
      }
    }
  } finally {
    for (const copy of copies) await copy.drop()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
