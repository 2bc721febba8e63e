import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import { ApiError } from "../../src/http/ApiError.ts"
import { makeAuthFailureLimiter } from "../../src/http/AuthFailureLimiter.ts"
import type { AuthFailureRepoShape } from "../../src/store/AuthFailureRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

const LIMITS = { windowMs: 60_000, perCredential: 3, perAddress: 5 }
const unauthorized = new ApiError({ status: 401, detail: "missing or invalid credentials" })
const client = (credentialHash: string, address = "10.0.0.1") => ({ credentialHash, address })
const statusOf = <A>(effect: Effect.Effect<A, ApiError>) => Effect.map(Effect.either(effect), (result) => (Either.isLeft(result) ? result.left.status : 200))

describe("AuthFailureLimiter", () => {
  it.effect("refuses a credential at `check` once it has failed `perCredential` times, until its window ends", () =>
    Effect.gen(function* () {
      const limiter = makeAuthFailureLimiter(LIMITS)
      const failures = []
      for (let attempt = 0; attempt < 3; attempt++) failures.push(yield* statusOf(limiter.failed(client("bad"), unauthorized)))
      expect(failures).toEqual([401, 401, 401])
      const refused = yield* Effect.flip(limiter.check(client("bad")))
      expect(refused.status).toBe(429)
      expect(refused.headers).toEqual({ "retry-after": "60" })
      // Another credential from the same address is looked up as usual.
      expect(yield* statusOf(limiter.check(client("good")))).toBe(200)
      yield* TestClock.adjust("30 seconds")
      expect((yield* Effect.flip(limiter.check(client("bad")))).headers).toEqual({ "retry-after": "30" })
      yield* TestClock.adjust("30 seconds")
      expect(yield* statusOf(limiter.check(client("bad")))).toBe(200)
    })
  )

  it.effect("answers 429 to failures once an address passes `perAddress`, whatever the credential; `check` never refuses a fresh one", () =>
    Effect.gen(function* () {
      const limiter = makeAuthFailureLimiter(LIMITS)
      const statuses = []
      for (let attempt = 0; attempt < 7; attempt++) statuses.push(yield* statusOf(limiter.failed(client(`guess-${attempt}`), unauthorized)))
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429])
      expect(yield* statusOf(limiter.check(client("valid")))).toBe(200)
      expect(yield* statusOf(limiter.failed(client("other", "10.0.0.2"), unauthorized))).toBe(401)
    })
  )

  it.effect("forgets expired counters under a flood of distinct credentials, so memory stays bounded", () =>
    Effect.gen(function* () {
      const limiter = makeAuthFailureLimiter({ windowMs: 1_000, perCredential: 3, perAddress: 1_000_000 })
      for (let attempt = 0; attempt < 10_001; attempt++) yield* statusOf(limiter.failed(client(`flood-${attempt}`), unauthorized))
      // 10,001 credentials and one address.
      expect(yield* limiter.size).toBe(10_002)
      yield* TestClock.adjust("2 seconds")
      // The next failure sweeps every expired counter; only its own two are left.
      yield* statusOf(limiter.failed(client("fresh"), unauthorized))
      expect(yield* limiter.size).toBe(2)
    })
  )
})

describe("AuthFailureLimiter with a shared count", () => {
  it.effect("`check` never reads the shared count: a valid credential costs no statement", () =>
    Effect.gen(function* () {
      const limiter = makeAuthFailureLimiter(LIMITS, dieOnUnstubbed<AuthFailureRepoShape>("AuthFailureRepo", {}))
      expect(yield* statusOf(limiter.check(client("valid")))).toBe(200)
    })
  )

  it.effect("takes the cluster's count; once an address is over its limit here, its further failures cost no statement", () =>
    Effect.gen(function* () {
      // The other runners have already counted 3 failures from this address in the window.
      let clusterCount = 3
      let statements = 0
      const limiter = makeAuthFailureLimiter(
        LIMITS,
        dieOnUnstubbed<AuthFailureRepoShape>("AuthFailureRepo", {
          count: (subjects, now, windowMs) =>
            Effect.sync(() => {
              statements += 1
              clusterCount += 1
              return subjects.map((subject) => ({ subject, count: subject.startsWith("address:") ? clusterCount : 1, endsAt: now + windowMs }))
            }),
          sweep: () => Effect.void
        })
      )
      const statuses = []
      for (let attempt = 0; attempt < 5; attempt++) statuses.push(yield* statusOf(limiter.failed(client(`guess-${attempt}`), unauthorized)))
      // The cluster's 4th and 5th failures pass; the 6th is over the limit of 5 here without asking.
      expect(statuses).toEqual([401, 401, 429, 429, 429])
      expect(statements).toBe(2)
    })
  )

  it.effect("when the database fails, failures are counted on this runner: 401 up to the limit, then 429", () =>
    Effect.gen(function* () {
      const down = new SqlError({ cause: new Error("connection refused"), message: "database unavailable" })
      const limiter = makeAuthFailureLimiter(LIMITS, dieOnUnstubbed<AuthFailureRepoShape>("AuthFailureRepo", { count: () => Effect.fail(down), sweep: () => Effect.fail(down) }))
      const statuses = []
      for (let attempt = 0; attempt < 4; attempt++) statuses.push(yield* statusOf(limiter.failed(client("bad"), unauthorized)))
      expect(statuses).toEqual([401, 401, 401, 429])
      expect(yield* statusOf(limiter.check(client("bad")))).toBe(429)
    })
  )
})
