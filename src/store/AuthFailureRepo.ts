import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

/** A client's failures in its current window, across the cluster; `endsAt` in ms since the epoch. */
export interface AuthFailureCount {
  readonly subject: string
  readonly count: number
  readonly endsAt: number
}

export interface AuthFailureRepoShape {
  /**
   * Counts one failure for each of `subjects` (`credential:<sha256>`, `address:<ip>`) at `now`
   * (ms since the epoch) and answers each one's count in its window: a window that has ended
   * starts again at 1 and ends `windowMs` later. One statement; rows locked in subject order.
   */
  readonly count: (subjects: ReadonlyArray<string>, now: number, windowMs: number) => Effect.Effect<ReadonlyArray<AuthFailureCount>, SqlError>
  /** Deletes the windows that ended by `now` (ms since the epoch). */
  readonly sweep: (now: number) => Effect.Effect<void, SqlError>
}

/**
 * `auth_failures` (migration 0021): failed authentications per client, shared by every runner,
 * so a cluster limits a client as one process would (docs/architecture.md §7.2).
 */
export class AuthFailureRepo extends Context.Tag("switchyard/AuthFailureRepo")<AuthFailureRepo, AuthFailureRepoShape>() {}

export const AuthFailureRepoLive = Layer.effect(
  AuthFailureRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return AuthFailureRepo.of({
      count: (subjects, now, windowMs) => {
        const at = new Date(now)
        const rows = [...new Set(subjects)].sort().map((subject) => ({ subject, endsAt: new Date(now + windowMs), count: 1 }))
        return sql<{ subject: string; count: number; endsAt: Date }>`
          insert into auth_failures as f ${sql.insert(rows)}
          on conflict (subject) do update set
            count = case when f.ends_at > ${at} then f.count + 1 else 1 end,
            ends_at = case when f.ends_at > ${at} then f.ends_at else excluded.ends_at end
          returning subject, count, ends_at`.pipe(
          Effect.map((counted) => counted.map((row) => ({ subject: row.subject, count: row.count, endsAt: row.endsAt.getTime() })))
        )
      },
      sweep: (now) => Effect.asVoid(sql`delete from auth_failures where ends_at <= ${new Date(now)}`)
    })
  })
)
