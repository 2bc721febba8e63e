/**
 * What the heartbeat → SSE tail is made of, at a fixed rate (open loop), on one or more
 * checkouts run in turn, round after round, on copies of one fleet:
 * `npx tsx bench/sseTail.ts [DIR ...] [--rate R] [--seconds S] [--rounds N] [--agents N] [--keep]`
 * (no DIR: this checkout). The service runs with its `npm start` flags and `bench/sseProbe.mjs`
 * preloaded; the load generator and the SSE client run as processes of their own, and a poller
 * samples Postgres every 50 ms (the checkpointer's wait event, autovacuum workers; `pg_stat_wal`
 * and `pg_stat_bgwriter` before and after). Per run it prints heartbeat → SSE p50/p99, and for the
 * slowest 1% of events the median of each part of their way: sent late (the generator), sent →
 * notified (the batch: queued, committed, announced), notified → the feed read that published
 * it began, that read, and its end → arrival at the client; then how many of them overlapped a
 * GC pause, an event-loop stall > 6 ms, a commit > 10 ms, a feed read > 10 ms, a checkpoint
 * being written, an autovacuum; and the timeline around the worst one.
 */
import path from "node:path"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { createTestDatabase } from "../test/support/database.ts"
import { startGatewaySimulator } from "../test/support/simulator/GatewaySimulator.ts"
import { flag, percentile, startFlags } from "./common.ts"
import { abFleet, startAt } from "./heartbeatCpuAB.ts"
import { child, lines, load, serviceEnv } from "./heartbeatThroughput.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const PROBE = path.join(HERE, "sseProbe.mjs")
const HEARTBEAT = "/api/v1/agent/heartbeat"
const ADMIN = "test-admin-token-0123456789"
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))
const ms = (value: number) => value.toFixed(1)
type Span = readonly [number, number]

interface Probe {
  readonly gcs: ReadonlyArray<[number, number, number]>
  readonly stalls: ReadonlyArray<[number, number, number, number]>
  readonly batches: ReadonlyArray<[number, number, number]>
  readonly reads: ReadonlyArray<[number, number, number, number]>
  readonly notices: ReadonlyArray<[number, number]>
  readonly writes: ReadonlyArray<[number, number]>
}

/** Samples the server every 50 ms: spans with the checkpointer writing, and with an autovacuum worker running (its table). */
const pollServer = (url: string) => {
  const client = new pg.Client({ connectionString: url })
  const checkpoint: Array<[number, number]> = []
  const vacuum: Array<[number, number, string]> = []
  let open: { checkpoint: number | undefined; vacuum: [number, string] | undefined } = { checkpoint: undefined, vacuum: undefined }
  let running = true
  const stats = async () =>
    (await client.query("select (select row_to_json(w) from pg_stat_wal w) as wal, (select row_to_json(b) from pg_stat_bgwriter b) as bg")).rows[0] as { wal: Record<string, number>; bg: Record<string, number> }
  const done = (async () => {
    await client.connect()
    const before = await stats()
    while (running) {
      const now = Date.now()
      const { rows } = await client.query<{ backend_type: string; wait_event: string | null; query: string }>(
        "select backend_type, wait_event, query from pg_stat_activity where backend_type in ('checkpointer', 'autovacuum worker')"
      )
      const writing = rows.some((row) => row.backend_type === "checkpointer" && row.wait_event !== "CheckpointerMain")
      if (writing && open.checkpoint === undefined) open.checkpoint = now
      if (!writing && open.checkpoint !== undefined) (checkpoint.push([open.checkpoint, now - open.checkpoint]), (open.checkpoint = undefined))
      const worker = rows.find((row) => row.backend_type === "autovacuum worker")
      if (worker !== undefined && open.vacuum === undefined) open.vacuum = [now, worker.query]
      if (worker === undefined && open.vacuum !== undefined) (vacuum.push([open.vacuum[0], now - open.vacuum[0], open.vacuum[1]]), (open.vacuum = undefined))
      await sleep(50)
    }
    const now = Date.now()
    if (open.checkpoint !== undefined) checkpoint.push([open.checkpoint, now - open.checkpoint])
    if (open.vacuum !== undefined) vacuum.push([open.vacuum[0], now - open.vacuum[0], open.vacuum[1]])
    const after = await stats()
    await client.end()
    const delta = (a: Record<string, number>, b: Record<string, number>, key: string) => Number(b[key] ?? 0) - Number(a[key] ?? 0)
    return {
      checkpoint,
      vacuum,
      line: `WAL ${(delta(before.wal, after.wal, "wal_bytes") / 1_048_576).toFixed(1)} MiB, ${delta(before.wal, after.wal, "wal_fpi")} full-page images, ${delta(before.wal, after.wal, "wal_sync")} syncs, ${delta(before.wal, after.wal, "wal_buffers_full")} buffers full; checkpoints timed ${delta(before.bg, after.bg, "checkpoints_timed")} requested ${delta(before.bg, after.bg, "checkpoints_req")}, buffers ${delta(before.bg, after.bg, "buffers_checkpoint")}`
    }
  })()
  return { stop: () => ((running = false), done) }
}

const overlaps = (from: number, to: number, spans: ReadonlyArray<Span>) => spans.some(([at, length]) => at < to && at + length > from)

/** One measured run of the service in `root` on database `url`; prints one block. */
const run = async (target: string, url: string, tokens: ReadonlyArray<string>, rate: number, seconds: number) => {
  const out = path.join("/tmp", `sseprobe-${process.pid}-${Math.random().toString(36).slice(2)}.json`)
  const [root = target, own] = target.split("::")
  const flags = own === undefined ? startFlags(root) : own.split(" ").filter((flag) => flag !== "")
  const service = await startAt(root, { ...serviceEnv(url), HBPROBE_OUT: out }, [...flags, `--import=${PROBE}`])
  const client = child("sseClient.ts", [service.url, ADMIN, "--ids"])
  try {
    const next = lines(client)
    if ((await next()) !== "ready") throw new Error("SSE client did not start")
    await sleep(1_000)
    await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds: 2, inFlight: 512 })
    process.kill(service.pid, "SIGUSR2")
    await sleep(300)
    const poller = pollServer(url)
    const result = await load({ mode: "open", url: service.url, path: HEARTBEAT, tokens, rate, seconds, keys: true, inFlight: 512 })
    await sleep(2_000)
    const server = await poller.stop()
    process.kill(service.pid, "SIGUSR2")
    client.stdin?.end()
    const arrivals = JSON.parse(await next()) as Record<string, number>
    const ids = JSON.parse(await next()) as Record<string, string>
    for (let tries = 0; tries < 50 && !existsSync(out); tries++) await sleep(100)
    await sleep(200)
    const probe = JSON.parse(readFileSync(out, "utf8")) as Probe
    if (process.argv.includes("--keep")) console.log(`    probe figures kept in ${out}`)
    else rmSync(out)
    const events = result.keys.flatMap(([key, due, answered, left]) => {
      const arrived = arrivals[key]
      const cursor = Number(ids[key])
      return arrived === undefined ? [] : [{ key, due, answered, left, arrived, cursor, xid: Math.floor(cursor / 65_536) }]
    })
    const latencies = events.map((event) => event.arrived - event.due)
    const answerToEvent = events.map((event) => event.arrived - event.answered)
    const slowAt = percentile(latencies, 99)
    const slow = events.filter((event) => event.arrived - event.due >= slowAt)
    const noticeOf = new Map<number, number>()
    for (const [at, xid] of probe.notices) if (!noticeOf.has(xid)) noticeOf.set(xid, at)
    const parts = slow.flatMap((event) => {
      const noticed = noticeOf.get(event.xid)
      const read = probe.reads.find(([at, length, , frontier]) => frontier > event.cursor && at + length <= event.arrived + 1)
      if (noticed === undefined || read === undefined) return []
      return [[event.left - event.due, noticed - event.left, read[0] - noticed, read[1], event.arrived - read[0] - read[1], event.answered - event.left] as const]
    })
    const median = (i: number) => ms(percentile(parts.map((part) => part[i]!), 50))
    const readMs = probe.reads.map(([, length]) => length)
    const commits = probe.batches.map(([, , length]) => length)
    const uptime = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
    console.log(
      `  ${path.basename(root)}${own === undefined ? "" : ` (${own})`} (load ${uptime}): ${result.ok} ok, ${events.length} delivered; heartbeat → SSE p50 ${ms(percentile(latencies, 50))} p99 ${ms(slowAt)} max ${ms(Math.max(...latencies))} ms; ` +
        `POST p99 ${ms(result.p99)} ms; answer → event p50 ${ms(percentile(answerToEvent, 50))} p99 ${ms(percentile(answerToEvent, 99))} ms`
    )
    console.log(
      `    batches ${commits.length}, commit p50 ${ms(percentile(commits, 50))} p99 ${ms(percentile(commits, 99))} max ${ms(Math.max(0, ...commits))} ms; ` +
        `feed reads ${readMs.length} (${probe.reads.filter(([, , rows]) => rows <= 1).length} with ≤ 1 row), p50 ${ms(percentile(readMs, 50))} p99 ${ms(percentile(readMs, 99))} max ${ms(Math.max(0, ...readMs))} ms; ` +
        `notices ${probe.notices.length}; SSE writes ${probe.writes.length}; GC ${probe.gcs.length} (max ${ms(Math.max(0, ...probe.gcs.map(([, d]) => d)))} ms, kinds ${[...new Set(probe.gcs.map(([, , k]) => k))].join(",")}); stalls > 6 ms ${probe.stalls.length} (max ${ms(Math.max(0, ...probe.stalls.map(([, d]) => d)))} ms)`
    )
    const gcKinds = [...new Set(probe.gcs.map(([, , kind]) => kind))].sort((a, b) => a - b)
    const long = probe.stalls.filter(([, length]) => length > 50)
    const sum = (i: 1 | 2 | 3) => long.reduce((total, stall) => total + stall[i], 0)
    console.log(
      `    GC by kind (1 scavenge, 4 mark-compact, 8 incremental): ${gcKinds.map((kind) => { const pauses = probe.gcs.filter(([, , k]) => k === kind).map(([, d]) => d); return `${kind}: ${pauses.length}×, ${ms(pauses.reduce((a, b) => a + b, 0))} ms, p50 ${ms(percentile(pauses, 50))} max ${ms(Math.max(...pauses))}` }).join("; ")}; ` +
        `stalls > 50 ms: ${long.length}, ${ms(sum(1))} ms in all: main thread on CPU ${ms(sum(2))}, runnable but not run ${ms(sum(3))}, blocked ${ms(sum(1) - sum(2) - sum(3))} ms; ${long.filter(([at, length]) => overlaps(at, at + length, probe.gcs.map(([a, d]) => [a, d] as const))).length} of them overlap a GC pause`
    )
    // Commits in the second after a checkpoint began (its first writes of each page carry a full-page image) against the rest.
    const afterCheckpoint = (at: number) => server.checkpoint.some(([from]) => at >= from && at < from + 1_000)
    const near = probe.batches.filter(([at]) => afterCheckpoint(at)).map(([, , d]) => d)
    const far = probe.batches.filter(([at]) => !afterCheckpoint(at)).map(([, , d]) => d)
    console.log(`    commits in the second after a checkpoint began: ${near.length}, p50 ${ms(percentile(near, 50))} max ${ms(Math.max(0, ...near))} ms; the rest: ${far.length}, p50 ${ms(percentile(far, 50))} max ${ms(Math.max(0, ...far))} ms`)
    if (process.argv.includes("--keep")) writeFileSync(`${out}.server.json`, JSON.stringify(server))
    console.log(`    server: ${server.line}; checkpoint writing ${server.checkpoint.map(([, d]) => `${d} ms`).join(", ") || "never"}; autovacuum ${server.vacuum.map(([, d, q]) => `${d} ms (${q.slice(0, 60)})`).join(", ") || "none"}`)
    console.log(
      `    slowest 1% (${slow.length}, ≥ ${ms(slowAt)} ms; parts found for ${parts.length}), medians: sent late ${median(0)}, sent → notified ${median(1)} (POST answered ${median(5)}), ` +
        `notified → its read began ${median(2)}, the read ${median(3)}, read end → arrival ${median(4)} ms`
    )
    const spans = (list: ReadonlyArray<readonly [number, number, ...unknown[]]>) => list.map(([at, d]) => [at, d] as const)
    const count = (list: ReadonlyArray<Span>) => slow.filter((event) => overlaps(event.due, event.arrived, list)).length
    console.log(
      `    of them overlapping: GC ${count(spans(probe.gcs))}, stall > 6 ms ${count(spans(probe.stalls))}, commit > 10 ms ${count(probe.batches.filter(([, , d]) => d > 10).map(([at, , d]) => [at, d] as const))}, ` +
        `feed read > 10 ms ${count(probe.reads.filter(([, d]) => d > 10).map(([at, d]) => [at, d] as const))}, checkpoint ${count(spans(server.checkpoint))}, autovacuum ${count(spans(server.vacuum))}`
    )
    const worst = slow.reduce((a, b) => (b.arrived - b.due > a.arrived - a.due ? b : a), slow[0]!)
    if (worst !== undefined) {
      const from = worst.due - 20
      const to = worst.arrived + 5
      const within = <T extends readonly [number, ...unknown[]]>(list: ReadonlyArray<T>) => list.filter(([at]) => at >= from - 200 && at <= to)
      const rel = (at: number) => ms(at - worst.due)
      const timeline = [
        ...within(probe.batches).filter(([at, , d]) => at + d >= from).map(([at, rows, d]) => [at, `batch ${rows} rows ${ms(d)} ms`] as const),
        ...within(probe.reads).filter(([at, d]) => at + d >= from).map(([at, d, rows, f]) => [at, `read ${ms(d)} ms ${rows} rows${f > worst.cursor ? " (passes it)" : ""}`] as const),
        ...within(probe.gcs).filter(([at, d]) => at + d >= from).map(([at, d, k]) => [at, `GC kind ${k} ${ms(d)} ms`] as const),
        ...within(probe.stalls).filter(([at, d]) => at + d >= from).map(([at, d, cpu, wait]) => [at, `stall ${ms(d)} ms (CPU ${ms(cpu)}, runnable ${ms(wait)})`] as const),
        ...within(probe.notices).filter(([at]) => at >= from).map(([at, xid]) => [at, `notice ${xid}${xid === worst.xid ? " (its xid)" : ""}`] as const)
      ].sort((a, b) => a[0] - b[0])
      console.log(
        `    worst: ${ms(worst.arrived - worst.due)} ms (left +${rel(worst.left)}, answered +${rel(worst.answered)}, arrived +${rel(worst.arrived)}, xid ${worst.xid}): ` +
          timeline.slice(0, 40).map(([at, what]) => `+${rel(at)} ${what}`).join("; ")
      )
    }
  } finally {
    client.kill()
    await service.stop()
  }
}

const main = async () => {
  const roots = process.argv
    .slice(2)
    .filter((arg, i, all) => !arg.startsWith("--") && !(all[i - 1] ?? "").startsWith("--"))
    .map((dir) => {
      const [root = dir, own] = dir.split("::")
      return own === undefined ? path.resolve(root) : `${path.resolve(root)}::${own}`
    })
  if (roots.length === 0) roots.push(path.resolve(HERE, ".."))
  const rate = flag("--rate", 1_000)
  const seconds = flag("--seconds", 8)
  const rounds = flag("--rounds", 1)
  const agents = flag("--agents", 1_000)
  const simulator = await startGatewaySimulator({ latencyMs: 1 })
  const db = await createTestDatabase()
  const copies: Array<{ drop: () => Promise<void> }> = []
  try {
    const tokens = await abFleet(db.url, simulator, agents)
    console.log(`sseTail: ${agents} agents, ${rate}/s open loop for ${seconds} s, ${rounds} round(s)`)
    for (let round = 0; round < rounds; round++) {
      for (const root of round % 2 === 0 ? roots : [...roots].reverse()) {
        const copy = await createTestDatabase({ template: db.url })
        copies.push(copy)
        await run(root, copy.url, tokens, rate, seconds)
      }
    }
  } finally {
    for (const copy of copies) await copy.drop()
    await db.drop()
    await simulator.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
