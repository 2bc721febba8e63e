import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Data, Effect, Exit, Logger, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { superviseEmbeddedPostgres } from "../../src/database/superviseEmbeddedPostgres.ts"

// A stand-in postmaster: a real process whose pid is written to `postmaster.pid`, as Postgres does.

class StartFailed extends Data.TaggedError("StartFailed")<{ readonly message: string }> {}

const children: Array<ChildProcess> = []
const standIn = (dataDir: string) => {
  const child = spawn("sleep", ["60"], { stdio: "ignore" })
  children.push(child)
  writeFileSync(path.join(dataDir, "postmaster.pid"), `${child.pid}\n${dataDir}\n`)
  return child
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL")
})

/** Runs the supervisor in a scope of its own, collecting log lines as `level message annotations`. */
const supervise = async (dataDir: string, start: Effect.Effect<void, StartFailed>) => {
  const logs: Array<{ level: string; message: unknown; annotations: Record<string, unknown> }> = []
  const logger = Logger.make(({ logLevel, message, annotations }) =>
    logs.push({ level: logLevel.label, message: Array.isArray(message) ? message[0] : message, annotations: Object.fromEntries(annotations) })
  )
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(
    superviseEmbeddedPostgres({ dataDir, start, pollMs: 20 }).pipe(Scope.extend(scope), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
  )
  return { logs, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

describe("superviseEmbeddedPostgres", () => {
  it("starts the server again when its process dies, logging the reason and the downtime", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "sy-supervise-"))
    const first = standIn(dataDir)
    let starts = 0
    const { logs, close } = await supervise(
      dataDir,
      Effect.sync(() => {
        starts++
        standIn(dataDir)
      })
    )
    try {
      first.kill("SIGKILL")
      await expect.poll(() => starts, { timeout: 5_000 }).toBe(1)
      await expect.poll(() => logs.map((log) => log.message), { timeout: 5_000 }).toEqual(["embedded Postgres exited; restarting it", "embedded Postgres restarted"])
      expect(logs[0]).toMatchObject({ level: "WARN", annotations: { reason: `postmaster process ${first.pid} is gone`, pid: first.pid } })
      expect(logs[1]?.annotations["down_ms"]).toEqual(expect.any(Number))
    } finally {
      await close()
    }
  })

  it("keeps retrying a failing restart with backoff until it succeeds, logging each failure", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "sy-supervise-"))
    const first = standIn(dataDir)
    let attempts = 0
    const start = Effect.suspend(() => {
      attempts++
      if (attempts < 3) return Effect.fail(new StartFailed({ message: "could not bind IPv4 address" }))
      standIn(dataDir)
      return Effect.void
    })
    const { logs, close } = await supervise(dataDir, start)
    try {
      first.kill("SIGKILL")
      await expect.poll(() => logs.at(-1)?.message, { timeout: 10_000 }).toBe("embedded Postgres restarted")
      expect(attempts).toBe(3)
      expect(logs.filter((log) => log.message === "embedded Postgres restart failed; retrying").map((log) => log.annotations["reason"])).toEqual([
        "could not bind IPv4 address",
        "could not bind IPv4 address"
      ])
    } finally {
      await close()
    }
  })

  it("leaves a stopped (SIGSTOP) server alone: a hang is not a death", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "sy-supervise-"))
    const first = standIn(dataDir)
    let starts = 0
    const { logs, close } = await supervise(dataDir, Effect.sync(() => void starts++))
    try {
      first.kill("SIGSTOP")
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(starts).toBe(0)
      expect(logs).toEqual([])
    } finally {
      first.kill("SIGCONT")
      await close()
    }
  })
})
