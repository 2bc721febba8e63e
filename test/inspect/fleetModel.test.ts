import { describe, expect, it } from "vitest"
import { applyChange, expectedCount, orderedStates, problemKinds, problemOf, type FleetSummary } from "./clientModules.ts"

/** Gateway `g1` with boards `b1` (online 5, provisioning.failed 1) and `b2` (offline 2); gateway `g2` with board-less online 3. */
const summary = (): FleetSummary => ({
  total: 11,
  by_state: { online: 8, "provisioning.failed": 1, offline: 2 },
  gateways: [
    { gateway_id: "g1", total: 8, by_state: { online: 5, "provisioning.failed": 1, offline: 2 } },
    { gateway_id: "g2", total: 3, by_state: { online: 3 } }
  ],
  boards: [
    { board_id: "b1", gateway_id: "g1", total: 6, by_state: { online: 5, "provisioning.failed": 1 } },
    { board_id: "b2", gateway_id: "g1", total: 2, by_state: { offline: 2 } },
    { board_id: null, gateway_id: "g2", total: 3, by_state: { online: 3 } }
  ],
  problems: { failed: 1, retrying: 0, offline: 2, offline_by_reason: [{ reason: "no heartbeat yet", count: 2 }], stuck: 0, stuck_after_s: 900 }
})

describe("fleetModel (the fleet view's counts and problems, without the DOM)", () => {
  it("a transition moves one agent between states in the fleet, its gateway and its board, with the problem counts", () => {
    const fleet = summary()
    expect(applyChange(fleet, { from: "offline", to: "online", gatewayId: "g1", boardId: "b2" })).toBe(true)
    expect(fleet.by_state).toEqual({ online: 9, "provisioning.failed": 1, offline: 1 })
    expect(fleet.total).toBe(11)
    expect(fleet.gateways[0]!.by_state).toEqual({ online: 6, "provisioning.failed": 1, offline: 1 })
    expect(fleet.boards[1]!.by_state).toEqual({ offline: 1, online: 1 })
    expect(fleet.problems).toMatchObject({ offline: 1, failed: 1 })

    applyChange(fleet, { from: "provisioning.failed", to: "provisioning.applying", gatewayId: "g1", boardId: "b1" })
    expect(fleet.by_state["provisioning.failed"]).toBeUndefined()
    expect(fleet.problems["failed"]).toBe(0)
  })

  it("a created agent adds to the totals (a new gateway and board appear); a deleted one leaves them; a self-transition changes nothing", () => {
    const fleet = summary()
    applyChange(fleet, { from: null, to: "provisioning.applying", gatewayId: "g3", boardId: "b9" })
    expect(fleet.total).toBe(12)
    expect(fleet.gateways.find((gateway) => gateway.gateway_id === "g3")).toEqual({ gateway_id: "g3", total: 1, by_state: { "provisioning.applying": 1 } })
    expect(fleet.boards.find((board) => board.board_id === "b9")).toEqual({ board_id: "b9", gateway_id: "g3", total: 1, by_state: { "provisioning.applying": 1 } })
    applyChange(fleet, { from: "online", to: "deleted", gatewayId: "g2", boardId: null })
    expect(fleet.total).toBe(11)
    expect(fleet.gateways[1]).toEqual({ gateway_id: "g2", total: 2, by_state: { online: 2 } })
    const before = JSON.stringify(fleet)
    expect(applyChange(fleet, { from: "online", to: "online", gatewayId: "g1", boardId: "b1" })).toBe(false)
    expect(JSON.stringify(fleet)).toBe(before)
  })

  it("problem kinds come from the summary, most urgent first, a kind the page does not know after stuck", () => {
    const fleet = summary()
    fleet.problems["zombie"] = 4
    fleet.problems["heartbeat_mismatch"] = 1
    fleet.problems["gateway_missing"] = 2
    fleet.problems["drifted"] = 3
    expect(problemKinds(fleet).map(({ kind }) => kind)).toEqual(["failed", "retrying", "stuck", "zombie", "gateway_missing", "heartbeat_mismatch", "offline", "drifted"])
    expect(problemKinds(fleet).find(({ kind }) => kind === "zombie")).toEqual({ kind: "zombie", count: 4 })
  })

  it("an agent's problem from its state, or the kind the server put on it", () => {
    expect(problemOf({ state: "provisioning.failed" })).toBe("failed")
    expect(problemOf({ state: "updating.retrying" })).toBe("retrying")
    expect(problemOf({ state: "provisioning.wakeRetrying" })).toBe("retrying")
    expect(problemOf({ state: "offline", status: "offline" })).toBe("offline")
    expect(problemOf({ state: "online", problem: "missing" })).toBe("missing")
    expect(problemOf({ state: "online" })).toBeNull()
  })

  it("an offline agent under its cause when the cause is a kind; drift only when nothing worse holds", () => {
    expect(problemOf({ state: "offline", liveness: { offline_cause: "gateway_missing" } })).toBe("gateway_missing")
    expect(problemOf({ state: "offline", liveness: { offline_cause: "heartbeat_mismatch" } })).toBe("heartbeat_mismatch")
    expect(problemOf({ state: "offline", liveness: { offline_cause: "silent" } })).toBe("offline")
    // A cause left on an agent that came back is not a problem.
    expect(problemOf({ state: "online", liveness: { offline_cause: "gateway_missing" } })).toBeNull()
    expect(problemOf({ state: "online", workspace: { drifted: ["SOUL.md"] } })).toBe("drifted")
    expect(problemOf({ state: "online", workspace: { drifted: [] } })).toBeNull()
    expect(problemOf({ state: "offline", workspace: { drifted: ["SOUL.md"] } })).toBe("offline")
  })

  it("the size of a filtered list, from the counts, where they tell", () => {
    const fleet = summary()
    expect(expectedCount(fleet, {})).toBe(11)
    expect(expectedCount(fleet, { gateway_id: "g1" })).toBe(8)
    expect(expectedCount(fleet, { board_id: "b1", status: "provisioning" })).toBe(1)
    expect(expectedCount(fleet, { state: "provisioning" })).toBe(1)
    expect(expectedCount(fleet, { status: "online" })).toBe(8)
    expect(expectedCount(fleet, { problem: "offline" })).toBe(2)
    expect(expectedCount(fleet, { problem: "offline", gateway_id: "g1" })).toBeNull()
    expect(expectedCount(fleet, { q: "ada" })).toBeNull()
    expect(expectedCount(fleet, { board_id: "nope" })).toBe(0)
  })

  it("orders states by top-level state, then by name", () => {
    expect(orderedStates({ offline: 1, "provisioning.failed": 2, online: 3, "provisioning.awaiting": 4 }).map(([state]) => state)).toEqual([
      "online",
      "provisioning.awaiting",
      "provisioning.failed",
      "offline"
    ])
  })
})
