import { describe, expect, it } from "vitest"
import { buildTemplateContext, type IdentityProfile, TemplateContext } from "../../src/templates/TemplateContext.ts"
import { BASE_URL, inputFor, TOKEN } from "./contextFixture.ts"

describe("buildTemplateContext", () => {
  it("maps a board worker's input onto every context field", () => {
    const context = buildTemplateContext(inputFor("worker"))
    expect(TemplateContext.parse(context)).toEqual(context)
    expect(context).toMatchObject({
      agent_name: "Ada Worker",
      agent_id: "0b7c2d1e-1111-4222-8333-944445555666",
      gateway_agent_id: "mc-0b7c2d1e",
      board_id: "b1-board",
      board_name: "Launch Board",
      board_objective: "Ship v1 by Friday",
      board_type: "goal",
      is_board_lead: false,
      is_main_agent: false,
      session_key: "agent:mc-0b7c2d1e:main",
      main_session_key: "agent:mc-gateway-g1:main",
      workspace_root: "/srv/openclaw",
      workspace_path: "/srv/openclaw/workspace-mc-0b7c2d1e",
      base_url: BASE_URL,
      auth_token: TOKEN,
      heartbeat_every: "10m",
      user_name: "Grace Hopper",
      user_pronouns: "she/her",
      user_timezone: "Europe/Paris",
      user_notes: "Prefers mornings.",
      user_context: "Runs the compiler team.",
      identity_role: "Backend Engineer",
      identity_custom_instructions: "Always cite the test you ran."
    })
  })

  it("gives a main agent empty board fields and keeps its flags", () => {
    const context = buildTemplateContext(inputFor("main"))
    expect(context).toMatchObject({ board_id: "", board_name: "", board_objective: "", board_type: "", is_main_agent: true })
  })

  it("defaults a missing objective, board type and user to empty strings", () => {
    const input = { ...inputFor("lead"), board: { id: "b2", name: "B2", objective: null, boardType: null }, user: null }
    const context = buildTemplateContext(input)
    expect(context.board_objective).toBe("")
    expect(context.board_type).toBe("")
    expect([context.user_name, context.user_preferred_name, context.user_pronouns, context.user_timezone]).toEqual(["", "", "", ""])
    expect([context.user_notes, context.user_context]).toEqual(["", ""])
  })

  it("uses the first word of the preferred name", () => {
    const base = inputFor("worker")
    const withPreferred = (preferredName: string) =>
      buildTemplateContext({ ...base, user: { ...base.user, preferredName } }).user_preferred_name
    expect(withPreferred("  Grace   Brewster Hopper ")).toBe("Grace")
    expect(withPreferred("   ")).toBe("")
    expect(withPreferred("")).toBe("")
  })

  describe("identity normalisation (docs/operations.md §6.9)", () => {
    const withProfile = (identityProfile: IdentityProfile | null) =>
      buildTemplateContext({ ...inputFor("worker"), agent: { ...inputFor("worker").agent, identityProfile } })

    it("falls back to the default identity for a null profile", () => {
      const context = withProfile(null)
      expect(context.identity_role).toBe("Generalist")
      expect(context.identity_communication_style).toBe("direct, concise, practical")
      expect(context.identity_emoji).toBe(":gear:")
      for (const key of [
        "identity_autonomy_level",
        "identity_verbosity",
        "identity_output_format",
        "identity_update_cadence",
        "identity_purpose",
        "identity_personality",
        "identity_custom_instructions"
      ] as const) {
        expect(context[key]).toBe("")
      }
    })

    it("joins lists with ', ', trims values and drops blank items", () => {
      const context = withProfile({ role: [" Backend ", "", "  ", "QA"], personality: ["calm", "exact"], purpose: "  ship it  " })
      expect(context.identity_role).toBe("Backend, QA")
      expect(context.identity_personality).toBe("calm, exact")
      expect(context.identity_purpose).toBe("ship it")
    })

    it("treats blank strings, empty lists, null and absent keys as unset", () => {
      const context = withProfile({ role: "   ", communication_style: [" ", ""], emoji: null, purpose: [] })
      expect(context.identity_role).toBe("Generalist")
      expect(context.identity_communication_style).toBe("direct, concise, practical")
      expect(context.identity_emoji).toBe(":gear:")
      expect(context.identity_verbosity).toBe("")
      expect(context.identity_purpose).toBe("")
    })

    it("ignores unknown keys and never reads inherited properties", () => {
      const context = withProfile({ favourite_colour: "teal" })
      expect(context).not.toHaveProperty("identity_favourite_colour")
      expect(context.identity_role).toBe("Generalist")
      const proto = Object.create({ role: "Inherited" }) as Record<string, string>
      expect(withProfile(proto).identity_role).toBe("Generalist")
    })
  })

  it("refuses a blank token or base URL instead of rendering a broken workspace", () => {
    expect(() => buildTemplateContext({ ...inputFor("worker"), authToken: "" })).toThrow()
    expect(() => buildTemplateContext({ ...inputFor("worker"), baseUrl: "" })).toThrow()
  })
})
