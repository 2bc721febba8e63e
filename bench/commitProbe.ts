/**
 * The database's own commit latency, as a process of its own (`node bench/commitProbe.ts URL
 * SECONDS`): one connection commits a durable transaction of one WAL record (a transactional
 * `pg_logical_emit_message`, so no table is touched) every 10 ms for `SECONDS`, while a second
 * one polls `pg_stat_bgwriter` for requested checkpoints (on a shared server, each DROP DATABASE
 * requests one). Prints one JSON `CommitProbe`. Run beside a heartbeat load, it separates the
 * server's stalls (what a bare commit waits for) from the service's own latency.
 */
import pg from "pg"

/** What the probe saw: commit latencies (ms) and the checkpoints requested meanwhile. */
export interface CommitProbe {
  readonly commits: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly checkpointsRequested: number
}

const [url, seconds] = [process.argv[2] ?? "", Number(process.argv[3] ?? 8)]
const committer = new pg.Client({ connectionString: url })
const watcher = new pg.Client({ connectionString: url })
await Promise.all([committer.connect(), watcher.connect()])
// Postgres 17 moved the count to pg_stat_checkpointer (the embedded default); 15 keeps it in pg_stat_bgwriter.
const checkpointer = (await watcher.query<{ n: string }>("select count(*) as n from pg_catalog.pg_views where viewname = 'pg_stat_checkpointer'")).rows[0]?.n !== "0"
const requested = async () =>
  Number((await watcher.query<{ n: string }>(checkpointer ? "select num_requested as n from pg_stat_checkpointer" : "select checkpoints_req as n from pg_stat_bgwriter")).rows[0]?.n ?? 0)
const requestedFrom = await requested()
const latencies: number[] = []
const end = performance.now() + seconds * 1_000
while (performance.now() < end) {
  const started = performance.now()
  await committer.query("select pg_logical_emit_message(true, 'switchyard-commit-probe', '')")
  latencies.push(performance.now() - started)
  await new Promise((resolve) => setTimeout(resolve, 10))
}
latencies.sort((a, b) => a - b)
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
const probe: CommitProbe = { commits: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? 0, checkpointsRequested: (await requested()) - requestedFrom }
process.stdout.write(`${JSON.stringify(probe)}\n`)
await Promise.all([committer.end(), watcher.end()])
