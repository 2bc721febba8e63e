import { describe, expect, it } from "vitest"
import { HealthSampleMemo, type SampledHeartbeat } from "../../src/liveness/HealthSampleMemo.ts"

const sample = (...everies: Array<string | undefined>): Array<SampledHeartbeat> =>
  everies.map((every, i) => ({ agentId: `mc-${i}`, ...(every === undefined ? {} : { heartbeat: { enabled: every !== "disabled", every, everyMs: every === "disabled" ? null : 600_000 } }) }))

describe("HealthSampleMemo", () => {
  it("calls a sample unchanged only when agents, order and heartbeats are those of the last one applied", () => {
    const roster = new Map([["mc-0", "a"], ["mc-1", "b"]])
    const memo = new HealthSampleMemo(100)
    expect(memo.unchanged(sample("10m", "10m"), roster)).toBe(false)
    expect(memo.unchanged(sample("10m", "10m"), roster)).toBe(true)
    expect(memo.unchanged(sample("10m", "disabled"), roster)).toBe(false)
    expect(memo.unchanged(sample("10m", "disabled"), roster)).toBe(true)
    expect(memo.unchanged(sample("10m", undefined), roster)).toBe(false)
    expect(memo.unchanged(sample("10m"), roster)).toBe(false)
    expect(memo.unchanged([...sample("10m", "10m")].reverse(), roster)).toBe(false)
  })

  it("applies a sample again in full when the roster is new or grew", () => {
    const roster = new Map([["mc-0", "a"]])
    const memo = new HealthSampleMemo(100)
    expect(memo.unchanged(sample("10m"), roster)).toBe(false)
    roster.set("mc-1", "b")
    expect(memo.unchanged(sample("10m"), roster)).toBe(false)
    expect(memo.unchanged(sample("10m"), new Map(roster))).toBe(false)
    expect(memo.unchanged(sample("10m"), roster)).toBe(false)
  })

  it("applies an unchanged sample in full every `fullEvery` samples, and after forget", () => {
    const roster = new Map([["mc-0", "a"]])
    const memo = new HealthSampleMemo(3)
    const seen = Array.from({ length: 7 }, () => memo.unchanged(sample("10m"), roster))
    expect(seen).toEqual([false, true, true, false, true, true, false])
    memo.forget()
    expect(memo.unchanged(sample("10m"), roster)).toBe(false)
  })
})
