import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { DEFAULT_GATEWAY_MIN_VERSION } from "../../src/config/AppConfig.ts"
import { lacking, openclawRelease, releaseOfHello } from "./openclawRelease.ts"

const script = readFileSync(new URL("../../scripts/install-openclaw.sh", import.meta.url), "utf8")
const assigned = (name: string) => new RegExp(`^${name}="([^"]+)"$`, "m").exec(script)?.[1]

// docs/gateway-protocol.md §11: the two releases the real-gateway suites run against.
describe("openclawRelease", () => {
  it("names the versions scripts/install-openclaw.sh installs, and the older is the default minimum", () => {
    expect(openclawRelease().version).toBe(assigned("OPENCLAW_VERSION"))
    expect(openclawRelease("pinned").version).toBe(assigned("OPENCLAW_VERSION"))
    expect(openclawRelease("prev").version).toBe(assigned("OPENCLAW_PREV_VERSION"))
    expect(openclawRelease("prev").version).toBe(DEFAULT_GATEWAY_MIN_VERSION)
    expect(openclawRelease("prev").bin).toContain(".tools/openclaw-prev/")
  })

  it("refuses an unknown release name", () => {
    expect(() => openclawRelease("2026.7.35")).toThrow('OPENCLAW_RELEASE=2026.7.35: expected "pinned" or "prev"')
  })

  it("finds a gateway's release from hello-ok, and says what it lacks", () => {
    const prev = releaseOfHello({ server: { version: "2026.8.2" } })
    expect(prev.name).toBe("prev")
    expect(lacking(prev, "chat.send chat-request-conflict")).toBe("openclaw 2026.8.2 lacks chat.send chat-request-conflict (docs/gateway-protocol.md §11)")
    const simulator = releaseOfHello({ server: { version: "2026.9.6" } })
    expect(simulator.name).toBe("pinned")
    expect(lacking(simulator, "chat.send chat-request-conflict")).toBeUndefined()
  })
})
