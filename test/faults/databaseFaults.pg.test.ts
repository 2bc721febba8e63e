import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { startService, type ServiceProcess } from "../support/serviceProcess.ts"

// Faults of the database under a real service process. Only the service's own embedded
// Postgres (its own data directory and port) or a fake TCP server of this file is faulted.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const ACQUIRE_MS = 1_000
const STATEMENT_MS = 1_500
const STARTUP_MS = 3_000
const timeouts = { SWITCHYARD_DB_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS), SWITCHYARD_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS) }

/** The embedded postmaster's pid, from `postmaster.pid` in its data directory. */
const postmasterPid = (dataDir: string) => Number.parseInt(readFileSync(path.join(dataDir, "pgdata", "postmaster.pid"), "utf8").split("\n")[0] ?? "", 10)

/** The postmaster and its backends (children by parent pid), so SIGSTOP hangs every connection. */
const postgresProcesses = (postmaster: number): Array<number> => {
  const children = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // `pid (comm) state ppid …`; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
        return Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "", 10) === postmaster
      } catch {
        return false
      }
    })
    .map(Number)
  return [postmaster, ...children]
}

const signalAll = (pids: ReadonlyArray<number>, signal: NodeJS.Signals) => {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

const isJson = (line: string) => {
  try {
    return typeof JSON.parse(line) === "object"
  } catch {
    return false
  }
}

/** Runs `npm start`'s entry with `env` until it exits (or `limitMs`); output lines and exit code. */
const runToExit = (env: Record<string, string>, limitMs: number) =>
  new Promise<{ code: number | null; lines: Array<string>; exitedAfterMs: number }>((resolve) => {
    const output: Array<string> = []
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, PORT: "18999", SWITCHYARD_ADMIN_TOKEN: "test-admin-token-0123456789", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()))
    const started = Date.now()
    const limit = setTimeout(() => child.kill("SIGKILL"), limitMs)
    child.once("exit", (code) => {
      clearTimeout(limit)
      resolve({ code, lines: output.join("").split("\n").filter((line) => line.trim() !== ""), exitedAfterMs: Date.now() - started })
    })
  })

/** A TCP server that accepts connections and never answers (a database hung before its handshake). */
const silentServer = () =>
  new Promise<{ port: number; close: () => Promise<void> }>((resolve) => {
    const sockets = new Set<Socket>()
    const server: Server = createServer((socket) => {
      sockets.add(socket)
      socket.on("error", () => undefined)
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })

describe("database faults", () => {
  let service: ServiceProcess | undefined
  let stopped: Array<number> = []

  afterEach(async () => {
    signalAll(stopped, "SIGCONT")
    stopped = []
    // SIGTERM, so the service stops its embedded Postgres on the way out.
    await service?.kill("SIGTERM")
    service = undefined
  })

  const startEmbedded = async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "sy-db-faults-"))
    service = await startService({ ...timeouts, SWITCHYARD_DATA_DIR: dataDir })
    return { service, dataDir }
  }

  it("/readyz answers 503 while the embedded Postgres is dead and 200 again once the supervisor has restarted it", async () => {
    const { service, dataDir } = await startEmbedded()
    const readyz = () => fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then((response) => response.status)
    expect(await readyz()).toBe(200)
    const before = postmasterPid(dataDir)

    // Poll /readyz all along: the outage lasts only as long as the restart takes.
    const seen: Array<{ status: number; at: number }> = []
    let polling = true
    const poller = (async () => {
      while (polling) {
        seen.push({ status: await readyz().catch(() => 0), at: Date.now() })
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const killedAt = Date.now()
    process.kill(before, "SIGKILL")
    try {
      await expect.poll(() => seen.some((probe) => probe.at > killedAt && probe.status === 503), { timeout: 15_000, interval: 50 }).toBe(true)
      await expect
        .poll(() => seen.some((probe) => probe.at > killedAt && probe.status === 503) && seen.at(-1)?.status === 200, { timeout: 30_000, interval: 50 })
        .toBe(true)
    } finally {
      polling = false
      await poller
    }
    const firstDown = seen.find((probe) => probe.at > killedAt && probe.status === 503)!
    const backUp = seen.find((probe) => probe.at > firstDown.at && probe.status === 200)!
    console.info(`embedded Postgres killed: /readyz 503 after ${firstDown.at - killedAt} ms, 200 again after ${backUp.at - killedAt} ms`)

    expect(postmasterPid(dataDir)).not.toBe(before)
    const boards = await service.api("GET", "/api/v1/boards")
    expect(boards.status).toBe(200)
    const entries = service
      .logs()
      .split("\n")
      .filter(isJson)
      .map((line) => JSON.parse(line) as { time?: string; message?: string; reason?: string; level?: string; down_ms?: number })
    const restartLog = entries.find((entry) => entry.message === "embedded Postgres exited; restarting it")
    expect(restartLog).toMatchObject({ level: "warn", reason: `postmaster process ${before} is gone` })
    const restarted = entries.find((entry) => entry.message === "embedded Postgres restarted")
    expect(restarted?.down_ms).toEqual(expect.any(Number))
    console.info(
      `embedded Postgres restarted by the supervisor after ${restarted?.down_ms} ms down; /readyz 200 ${backUp.at - Date.parse(restarted?.time ?? "")} ms after the restart`
    )
  })

  it("a hung embedded Postgres (SIGSTOP) answers reads with 503 and Retry-After within the timeouts, and /readyz with 503", async () => {
    const { service, dataDir } = await startEmbedded()
    expect((await service.api("GET", "/api/v1/boards")).status).toBe(200)
    stopped = postgresProcesses(postmasterPid(dataDir))
    signalAll(stopped, "SIGSTOP")

    const started = Date.now()
    const response = await fetch(`${service.url}/api/v1/boards`, {
      headers: { authorization: `Bearer ${service.adminToken}` },
      signal: AbortSignal.timeout(15_000)
    })
    const elapsed = Date.now() - started
    console.info(`hung database: read answered ${response.status} after ${elapsed} ms (acquire ${ACQUIRE_MS} ms, statement ${STATEMENT_MS} ms)`)
    expect(response.status).toBe(503)
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/)
    expect(elapsed).toBeLessThan(STATEMENT_MS + ACQUIRE_MS + 1_500)

    const readyStarted = Date.now()
    const ready = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(15_000) })
    expect(ready.status).toBe(503)
    expect(Date.now() - readyStarted).toBeLessThan(ACQUIRE_MS + 1_500)

    signalAll(stopped, "SIGCONT")
    stopped = []
    const resumedAt = Date.now()
    await expect.poll(async () => (await fetch(`${service.url}/readyz`)).status, { timeout: 20_000, interval: 50 }).toBe(200)
    console.info(`hung database resumed: /readyz 200 again after ${Date.now() - resumedAt} ms`)
    expect((await service.api("GET", "/api/v1/boards")).status).toBe(200)
  })

  it("start-up against a DATABASE_URL that accepts connections but never answers gives up within the bound, with a clear JSON error", async () => {
    const silent = await silentServer()
    try {
      const run = await runToExit(
        {
          ...timeouts,
          SWITCHYARD_DB_STARTUP_TIMEOUT_MS: String(STARTUP_MS),
          DATABASE_URL: `postgres://switchyard:hunter2-secret@127.0.0.1:${silent.port}/switchyard`
        },
        30_000
      )
      expect(run.code).toBe(1)
      expect(run.lines.filter((line) => !isJson(line))).toEqual([])
      const entries = run.lines.map((line) => JSON.parse(line) as { time: string; level: string; message: string })
      const last = entries.at(-1)!
      expect(last.level).toBe("error")
      expect(last.message).toContain(`the database at 127.0.0.1:${silent.port}/switchyard could not be reached within ${STARTUP_MS} ms`)
      // From "connecting to the database" to giving up: the start-up bound, give or take one attempt.
      expect(entries[0]!.message).toBe("connecting to the database")
      const waited = Date.parse(last.time) - Date.parse(entries[0]!.time)
      console.info(`never-answering database: gave up ${waited} ms after the first log line (bound ${STARTUP_MS} ms)`)
      expect(waited).toBeLessThan(STARTUP_MS + ACQUIRE_MS + 1_000)
      expect(run.lines.join("\n")).not.toContain("hunter2-secret")
    } finally {
      await silent.close()
    }
  })

  it("start-up against a DATABASE_URL on a dead port exits 1 and every log line is JSON", async () => {
    const dead = await silentServer()
    const port = dead.port
    await dead.close()
    const run = await runToExit({ ...timeouts, SWITCHYARD_DB_STARTUP_TIMEOUT_MS: "1000", DATABASE_URL: `postgres://switchyard:hunter2-secret@127.0.0.1:${port}/switchyard` }, 30_000)
    expect(run.code).toBe(1)
    expect(run.lines.length).toBeGreaterThan(0)
    expect(run.lines.filter((line) => !isJson(line))).toEqual([])
    const last = JSON.parse(run.lines.at(-1)!) as { level: string; message: string }
    expect(last).toMatchObject({ level: "error" })
    expect(last.message).toContain(`the database at 127.0.0.1:${port}/switchyard could not be reached`)
    expect(last.message).toContain("ECONNREFUSED")
    expect(run.lines.join("\n")).not.toContain("hunter2-secret")
  })
})
