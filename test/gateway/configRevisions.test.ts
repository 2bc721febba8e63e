import { describe, expect, it } from "vitest"
import type { ConnectionStatus } from "../../src/gateway/GatewayConnection.ts"
import { makeConfigRevisions } from "../../src/gateway/configRevisions.ts"
import type { EventFrame } from "../../src/gateway/protocol.ts"

describe("makeConfigRevisions (docs/gateway-protocol.md §1, §6)", () => {
  it("a retired connection's late close and frames reach neither the gateway's events nor its revision; the new connection's do", () => {
    const revisions = makeConfigRevisions()
    const forwarded: Array<string> = []
    const forward = (name: string) => ({
      event: (frame: EventFrame) => void forwarded.push(`${name} ${frame.event}`),
      status: (status: ConnectionStatus) => void forwarded.push(`${name} ${status}`)
    })
    const old = revisions.track("gw-1", forward("old"))
    old.onStatus("connecting")
    old.onStatus("ready")
    // Replaced: the old connection is retired, the new one's socket opens.
    old.retire()
    const current = revisions.track("gw-1", forward("new"))
    current.onStatus("connecting")
    current.onStatus("ready")
    current.onEvent({ type: "event", event: "tick", payload: {}, seq: 1 })
    const settled = revisions.revision("gw-1")

    // The old socket's close (and a frame) come late, after the new socket is open.
    old.onEvent({ type: "event", event: "tick", payload: {}, seq: 9 })
    old.onStatus("closed")
    expect(forwarded).toEqual(["old connecting", "old ready", "new connecting", "new ready", "new tick"])
    expect(revisions.revision("gw-1")).toBe(settled)
    // The new socket's count was not reset by the old close: its next event is no gap.
    current.onEvent({ type: "event", event: "tick", payload: {}, seq: 2 })
    expect(revisions.revision("gw-1")).toBe(settled)

    current.onStatus("closed")
    expect(forwarded.at(-1)).toBe("new closed")
    expect(revisions.revision("gw-1")).toBe(settled + 1)
  })
})
