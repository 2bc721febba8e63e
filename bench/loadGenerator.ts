/**
 * A heartbeat load generator run as a process of its own (`node bench/loadGenerator.ts`), so
 * its event loop is not the service's. Reads one JSON job on stdin and prints one JSON result:
 * - `{ mode: "closed", url, path, tokens, inFlight, seconds }`: `inFlight` requests always
 *   outstanding for `seconds`; the answer count per second is the maximum sustained rate;
 * - `{ mode: "open", url, path, tokens, rate, seconds }`: requests started on a fixed schedule
 *   (`rate` a second, whatever the answers do), each latency measured from its scheduled start.
 * Tokens go round-robin, one per request, as `x-agent-token`; with none it sends plain GETs.
 * Every 200 answer with a JSON `{ id, version }` is reported as a key `id:version` with the
 * epoch times (ms) it was sent and answered, so an SSE client's arrivals can be matched to it.
 */
import http from "node:http"

interface Job {
  readonly mode: "closed" | "open"
  readonly url: string
  readonly path: string
  readonly tokens: ReadonlyArray<string>
  readonly inFlight?: number
  readonly rate?: number
  readonly seconds: number
  /** Report `id:version` keys with their send and answer times (open mode). */
  readonly keys?: boolean
}

const readJob = async (): Promise<Job> => {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Job
}

const job = await readJob()
const target = new URL(job.url)
const agent = new http.Agent({ keepAlive: true, maxSockets: job.inFlight ?? 512 })
const epoch = () => performance.timeOrigin + performance.now()

let next = 0
const send = (): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const token = job.tokens.length === 0 ? undefined : job.tokens[next++ % job.tokens.length]
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: job.path,
        agent,
        method: token === undefined ? "GET" : "POST",
        headers: token === undefined ? {} : { "content-type": "application/json", "x-agent-token": token, "content-length": "2" }
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
        response.on("error", reject)
      }
    )
    // A request the service has not answered in 30 s counts as failed (keeps runs bounded).
    request.setTimeout(30_000, () => request.destroy(new Error("timeout")))
    request.on("error", reject)
    request.end(token === undefined ? undefined : "{}")
  })

let ok = 0
let failed = 0
const latencies: number[] = []
const keys: Array<[string, number, number, number]> = []
const one = async (sentAt: number) => {
  // When the request actually left: later than `sentAt` (when it was due) if this process ran late.
  const leftAt = epoch()
  try {
    const answer = await send()
    const answeredAt = epoch()
    latencies.push(answeredAt - sentAt)
    if (answer.status !== 200) {
      failed++
      return
    }
    ok++
    if (job.keys === true) {
      const body = JSON.parse(answer.body) as { id: string; version: number }
      keys.push([`${body.id}:${body.version}`, sentAt, answeredAt, leftAt])
    }
  } catch {
    failed++
  }
}

const started = epoch()
const until = started + job.seconds * 1_000
if (job.mode === "closed") {
  await Promise.all(
    Array.from({ length: job.inFlight ?? 64 }, async () => {
      while (epoch() < until) await one(epoch())
    })
  )
} else {
  const rate = job.rate ?? 100
  const total = Math.round(rate * job.seconds)
  const pending: Promise<void>[] = []
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1_000) / rate
    const wait = due - epoch()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    pending.push(one(due))
  }
  await Promise.all(pending)
}
const elapsed = (epoch() - started) / 1_000
latencies.sort((a, b) => a - b)
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0
process.stdout.write(JSON.stringify({ ok, failed, seconds: elapsed, rate: ok / elapsed, p50: at(50), p99: at(99), keys }))
agent.destroy()
