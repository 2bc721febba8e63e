import { describe, expect, it } from "vitest"
import { RosterCache } from "../../src/liveness/RosterCache.ts"

describe("RosterCache", () => {
  it("allows a read for an unknown managed id at most once per interval, and not again for an id the last read lacked", () => {
    const cache = new RosterCache(5_000)
    cache.replace(new Map([["mc-ours", "ours"]]), 1_000)
    expect(cache.agentIdOf("mc-ours")).toBe("ours")
    // Within the interval of the last read: no read, whatever the id.
    expect(cache.shouldReload("mc-orphan-1", 5_999)).toBe(false)
    expect(cache.shouldReload("mc-orphan-1", 6_000)).toBe(true)
    cache.replace(new Map([["mc-ours", "ours"]]), 6_000)
    cache.markAbsent("mc-orphan-1")
    // The orphan the read lacked: not again, even after the interval, until another read.
    expect(cache.shouldReload("mc-orphan-1", 60_000)).toBe(false)
    expect(cache.shouldReload("mc-orphan-2", 60_000)).toBe(true)
    cache.replace(new Map([["mc-ours", "ours"]]), 60_000)
    expect(cache.shouldReload("mc-orphan-1", 65_000)).toBe(true)
    // Ids that are not ours by name never cause a read.
    expect(cache.shouldReload("main", 1_000_000)).toBe(false)
  })

  it("an agent found without a read joins the roster and leaves the absent ids", () => {
    const cache = new RosterCache(5_000)
    cache.replace(new Map(), 0)
    cache.markAbsent("lead-b1")
    cache.add("lead-b1", "a1")
    expect(cache.agentIdOf("lead-b1")).toBe("a1")
    expect([...cache.roster]).toEqual([["lead-b1", "a1"]])
  })

  it("keeps the fingerprint of a read until an agent is added without one; a confirmed roster is a fresh read", () => {
    const cache = new RosterCache(5_000)
    const read = new Map([["mc-ours", "ours"]])
    cache.replace(read, 0, "1.2.3")
    expect(cache.fingerprint).toBe("1.2.3")
    cache.markAbsent("mc-orphan")
    cache.confirm(10_000)
    // Same map, and the orphan may be looked up again (the check was a read for another reason).
    expect(cache.roster).toBe(read)
    expect(cache.shouldReload("mc-orphan", 10_000)).toBe(false)
    expect(cache.shouldReload("mc-orphan", 15_000)).toBe(true)
    cache.add("mc-new", "new")
    expect(cache.fingerprint).toBeUndefined()
    cache.replace(new Map(), 20_000)
    expect(cache.fingerprint).toBeUndefined()
  })
})
