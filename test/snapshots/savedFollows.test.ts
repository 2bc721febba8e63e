import { describe, expect, it } from "vitest"
import { savedFollows } from "../../src/snapshots/savedFollows.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"

const stamps = (id: string) => ({ id, gatewayId: "g", createdAt: new Date(1_000), updatedAt: new Date(2_000) })
const write = (agentId: string, version: number) => ({ agentId, version, projection: agentProjectionFixture({ statePath: `online.v${version}` }), snapshot: { version } })

describe("saved follows", () => {
  it("keeps an agent's newest save while one of its follows is open, and nothing of an agent nobody follows", () => {
    const follows = savedFollows()
    follows.record(write("a", 1), stamps("a"))
    const first = follows.follow("a")
    const second = follows.follow("a")
    expect(first.saved()).toBeUndefined()
    follows.record(write("a", 2), stamps("a"))
    follows.record(write("b", 7), stamps("b"))
    expect(first.saved()).toMatchObject({ id: "a", gatewayId: "g", version: "2", statePath: "online.v2", updatedAt: new Date(2_000), snapshot: { version: 2 } })
    // Released twice, the first follow still counts once: the second keeps the agent followed.
    first.release()
    first.release()
    follows.record(write("a", 3), stamps("a"))
    expect(second.saved()?.version).toBe("3")
    second.release()
    expect(follows.any()).toBe(false)
    expect(follows.follow("a").saved()).toBeUndefined()
  })

  it("a follow sees only saves recorded after it began, not one an earlier follow of the agent kept", () => {
    const follows = savedFollows()
    const earlier = follows.follow("a")
    follows.record(write("a", 10), stamps("a"))
    const later = follows.follow("a")
    // The v10 save predates the later follow: its own event's save (elsewhere, or none) is not this one.
    expect(later.saved()).toBeUndefined()
    expect(earlier.saved()?.version).toBe("10")
    follows.record(write("a", 11), stamps("a"))
    expect(later.saved()?.version).toBe("11")
  })
})
