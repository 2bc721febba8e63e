/**
 * What an idle service does over a window, for bench/fleetScale.ts: the SQL statements it sends
 * (through `sqlCounter.ts`, by statement text) and, with `FLEET_CPU_PROF`, a CPU profile of the
 * window alone (`idleProfile.mjs`, preloaded into the service).
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { createInterface } from "node:readline"
import path from "node:path"
import { fileURLToPath } from "node:url"

const HERE = path.dirname(fileURLToPath(import.meta.url))

/** A statement-counting proxy to Postgres (`sqlCounter.ts`) in a process of its own: its port, and the counts by statement text so far. */
export const startSqlCounter = async () => {
  const counter = spawn(process.execPath, [path.join(HERE, "sqlCounter.ts")], { stdio: ["pipe", "pipe", "inherit"] })
  const answers = createInterface({ input: counter.stdout! })[Symbol.asyncIterator]()
  const port = Number((await answers.next()).value)
  return {
    port,
    /** `url` with its host and port replaced by the proxy's. */
    through: (url: string) => {
      const counted = new URL(url)
      counted.host = `127.0.0.1:${port}`
      return counted.toString()
    },
    texts: async (): Promise<Record<string, number>> => (counter.stdin!.write("texts\n"), JSON.parse(String((await answers.next()).value)) as Record<string, number>),
    stop: async () => {
      counter.kill()
      if (counter.exitCode === null) await once(counter, "exit")
    }
  }
}

/** Statements per minute between two `texts()` readings over `seconds`: the total, then the `top` texts with their rate. */
export const statementRates = (before: Record<string, number>, after: Record<string, number>, seconds: number, top = 10) => {
  const perMinute = (n: number) => (60 * n) / seconds
  const deltas = Object.entries(after)
    .map(([text, n]) => [text, n - (before[text] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1])
  const total = deltas.reduce((sum, [, n]) => sum + n, 0)
  return [`${perMinute(total).toFixed(1)} statements/min`, ...deltas.slice(0, top).map(([text, n]) => `${perMinute(n).toFixed(1)}/min  ${text}`)]
}
