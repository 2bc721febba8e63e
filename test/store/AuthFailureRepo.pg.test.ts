import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { MigrationsLive, SqlLive } from "../../src/database/Database.ts"
import { ApiError } from "../../src/http/ApiError.ts"
import { makeAuthFailureLimiter } from "../../src/http/AuthFailureLimiter.ts"
import { AuthFailureRepo, AuthFailureRepoLive } from "../../src/store/AuthFailureRepo.ts"
import { createTestDatabase } from "../support/database.ts"

const LIMITS = { windowMs: 60_000, perCredential: 3, perAddress: 5 }
const unauthorized = new ApiError({ status: 401, detail: "missing or invalid credentials" })
const statusOf = <A>(effect: Effect.Effect<A, ApiError>) => Effect.map(Effect.either(effect), (result) => (Either.isLeft(result) ? result.left.status : 200))

/**
 * Failed authentications counted in Postgres (migration 0021; docs/architecture.md §7.2): two
 * limiters on one database stand for two runners of a cluster, each with its own memory.
 */
describe("AuthFailureRepo: failed authentications shared by the runners", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let runtime: ManagedRuntime.ManagedRuntime<AuthFailureRepo | SqlClient.SqlClient, unknown>
  const run = <A, E>(effect: Effect.Effect<A, E, AuthFailureRepo | SqlClient.SqlClient>) => runtime.runPromise(effect)
  /** Two runners' limiters on the shared table. */
  const twoRunners = () => run(Effect.map(AuthFailureRepo, (repo) => [makeAuthFailureLimiter(LIMITS, repo), makeAuthFailureLimiter(LIMITS, repo)] as const))

  beforeAll(async () => {
    db = await createTestDatabase()
    runtime = ManagedRuntime.make(
      AuthFailureRepoLive.pipe(
        Layer.provideMerge(Layer.provideMerge(MigrationsLive, SqlLive)),
        Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(db.url)) }))
      )
    )
  })

  afterAll(async () => {
    await runtime?.dispose()
    await db?.drop()
  })

  it("a credential's failures on two runners count together; the runner that sees it over the limit refuses it before any lookup", async () => {
    const [a, b] = await twoRunners()
    const wrong = { credentialHash: randomUUID(), address: "10.1.0.1" }
    const statuses = [
      await run(statusOf(a.failed(wrong, unauthorized))),
      await run(statusOf(a.failed(wrong, unauthorized))),
      await run(statusOf(b.failed(wrong, unauthorized))),
      await run(statusOf(b.failed(wrong, unauthorized)))
    ]
    expect(statuses).toEqual([401, 401, 401, 429])
    expect(await run(statusOf(b.check(wrong)))).toBe(429)
    // Runner a last saw 2 failures, so it looks the credential up once more; the failure it counts is the cluster's fifth.
    expect(await run(statusOf(a.check(wrong)))).toBe(200)
    expect(await run(statusOf(a.failed(wrong, unauthorized)))).toBe(429)
    expect(await run(statusOf(a.check(wrong)))).toBe(429)
  })

  it("an address's failures with different credentials on two runners count together", async () => {
    const [a, b] = await twoRunners()
    const address = `10.2.0.${Math.floor(Math.random() * 250)}`
    const statuses = []
    for (let attempt = 0; attempt < LIMITS.perAddress + 2; attempt++) {
      const runner = attempt % 2 === 0 ? a : b
      statuses.push(await run(statusOf(runner.failed({ credentialHash: randomUUID(), address }, unauthorized))))
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429])
  })

  it("counts within a window, starts a new one after it ends, and a sweep deletes the windows that ended", async () => {
    const subject = `credential:${randomUUID()}`
    const t0 = 1_800_000_000_000
    const counts = await run(
      Effect.flatMap(AuthFailureRepo, (repo) =>
        Effect.all([repo.count([subject], t0, 1_000), repo.count([subject], t0 + 999, 1_000), repo.count([subject], t0 + 1_000, 1_000)])
      )
    )
    expect(counts.map(([counted]) => counted)).toEqual([
      { subject, count: 1, endsAt: t0 + 1_000 },
      { subject, count: 2, endsAt: t0 + 1_000 },
      { subject, count: 1, endsAt: t0 + 2_000 }
    ])
    const rowsOf = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ subject: string }>`select subject from auth_failures where subject = ${subject}`)
    await run(Effect.flatMap(AuthFailureRepo, (repo) => repo.sweep(t0 + 1_999)))
    expect(await run(rowsOf)).toHaveLength(1)
    await run(Effect.flatMap(AuthFailureRepo, (repo) => repo.sweep(t0 + 2_000)))
    expect(await run(rowsOf)).toHaveLength(0)
  })
})
