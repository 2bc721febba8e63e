import { describe, expect, it } from "vitest"
import { createOnGateway } from "../support/createOnGateway.ts"
import { withSimulatedStack } from "../support/simulatedStack.ts"

/**
 * Adoption with `keep_files: false` (docs/operations.md §6.2 "Adopt"): AGENTS.md, SOUL.md and
 * IDENTITY.md are rendered as for a create, the agent's own USER.md and MEMORY.md stay, and no
 * BOOTSTRAP.md is sent.
 */
const SOUL = "# SOUL\nI was here before Switchyard.\n"
const USER = "# USER\nNotes the agent wrote about its user.\n"
const MEMORY = "# MEMORY\nWhat the agent remembers.\n"

describe("adopting with keep_files false", () => {
  it("renders AGENTS.md, SOUL.md and IDENTITY.md, keeps the agent's USER.md and MEMORY.md, and sends no BOOTSTRAP.md", async () => {
    await withSimulatedStack({ boardName: "Rewrite" }, async ({ service, simulator, gatewayId, boardId }) => {
      await createOnGateway(simulator, "rewrite-me", { "SOUL.md": SOUL, "USER.md": USER, "MEMORY.md": MEMORY })
      const callsBefore = simulator.calls.length
      const adopted = await service.api("POST", `/api/v1/gateways/${gatewayId}/agents/adopt?wait_for=provisioning.awaiting&timeout_ms=15000`, {
        gateway_agent_id: "rewrite-me",
        board_id: boardId,
        name: "Rewritten",
        keep_files: false
      })
      expect(adopted.status, JSON.stringify(adopted.body)).toBe(201)
      const files = simulator.state.files.get("rewrite-me")!
      expect(files.get("SOUL.md")).not.toBe(SOUL)
      expect(files.get("IDENTITY.md")).toContain("Rewritten")
      expect(files.get("USER.md")).toBe(USER)
      expect(files.get("MEMORY.md")).toBe(MEMORY)
      const written = simulator.calls
        .slice(callsBefore)
        .filter((call) => call.method === "agents.files.set" && (call.params as { agentId: string }).agentId === "rewrite-me")
        .map((call) => (call.params as { name: string }).name)
      expect(written.sort()).toEqual(["AGENTS.md", "IDENTITY.md", "SOUL.md"])
    })
  })
})
