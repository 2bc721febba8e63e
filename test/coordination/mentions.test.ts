import { describe, expect, it } from "vitest"
import { mentionedAgents } from "../../src/coordination/mentions.ts"

const agents = [
  { id: "1", name: "Ava" },
  { id: "2", name: "Avalon" },
  { id: "3", name: "Data Bot" },
  { id: "4", name: "C++ (beta)" }
]

describe("mentionedAgents", () => {
  it("matches exact names of the board's agents, any case, ending at a word boundary", () => {
    expect([...mentionedAgents("@ava, see this", agents)]).toEqual(["1"])
    expect([...mentionedAgents("ask @Avalon", agents)]).toEqual(["2"])
    expect([...mentionedAgents("@Data Bot please", agents)]).toEqual(["3"])
    expect([...mentionedAgents("(@C++ (beta)) ok", agents)]).toEqual(["4"])
  })

  it("never matches a prefix, a longer word, an e-mail address or a bare name", () => {
    expect(mentionedAgents("@Avaline and @Av", agents).size).toBe(0)
    expect(mentionedAgents("mail ava@example.com or x@Ava", agents).size).toBe(0)
    expect(mentionedAgents("Ava and Data Bot", agents).size).toBe(0)
    expect(mentionedAgents("@Ava-2", agents).size).toBe(0)
  })
})
