import { Effect } from "effect"
import { readdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import type { TemplateContext } from "../../src/templates/TemplateContext.ts"
import { TemplateRenderError } from "../../src/templates/TemplateRenderError.ts"
import { PRESERVED_FILES, renderWorkspaceFiles, TEMPLATE_FILES, type RenderRequest } from "../../src/templates/renderWorkspaceFiles.ts"
import { TEMPLATES_DIR } from "../../src/templates/templateEnvironment.ts"
import { ALL_FILES, BASE_URL, contextFor, ROLES, TOKEN } from "./contextFixture.ts"

const request = (context: TemplateContext, extra: Partial<RenderRequest> = {}): RenderRequest => ({
  context,
  files: ALL_FILES,
  includeBootstrap: true,
  overrides: {},
  ...extra
})
const render = (req: RenderRequest) => Effect.runSync(renderWorkspaceFiles(req))
const renderError = (req: RenderRequest): TemplateRenderError => Effect.runSync(Effect.flip(renderWorkspaceFiles(req)))
const file = (files: ReadonlyMap<string, string>, name: string): string => {
  const text = files.get(name)
  if (text === undefined) throw new Error(`${name} was not rendered`)
  return text
}
const occurrences = (text: string, needle: string) => text.split(needle).length - 1
const HEARTBEAT_CALL = `curl -s -X POST "$BASE_URL/api/v1/agent/heartbeat" -H "X-Agent-Token: $AUTH_TOKEN"`
const ROLE_TAG = { worker: "agent-worker", lead: "agent-lead", main: "agent-main" } as const

describe("renderWorkspaceFiles", () => {
  it("has a template source for every file it renders, and only for gateway-accepted names", () => {
    const sources = readdirSync(TEMPLATES_DIR).filter((name) => name.endsWith(".md.njk")).map((name) => name.slice(0, -4))
    expect(new Set(sources)).toEqual(new Set(TEMPLATE_FILES))
    expect(TEMPLATE_FILES.has("TOOLS.md")).toBe(false)
    expect(TEMPLATE_FILES.has("HEARTBEAT.md")).toBe(false)
    expect([...PRESERVED_FILES].sort()).toEqual(["MEMORY.md", "USER.md"])
  })

  describe.each(ROLES)("for a %s", (role) => {
    const files = render(request(contextFor(role)))
    const agents = file(files, "AGENTS.md")

    it("renders every template, non-empty, with no leftover template syntax", () => {
      expect([...files.keys()]).toEqual([...ALL_FILES].sort())
      for (const [name, text] of files) {
        expect(text.trim().length, name).toBeGreaterThan(50)
        expect(text.endsWith("\n") && !text.endsWith("\n\n"), name).toBe(true)
        expect(text, name).not.toMatch(/\{\{|\{%|%\}|\}\}|undefined|\[object Object\]/)
      }
    })

    it("puts base URL, token, ids, workspace and the heartbeat call into AGENTS.md", () => {
      expect(agents).toContain(`export BASE_URL="${BASE_URL}"`)
      expect(agents).toContain(`export AUTH_TOKEN="${TOKEN}"`)
      expect(agents).toContain(HEARTBEAT_CALL)
      expect(agents).toContain("first thing after every wake")
      expect(agents).toContain("every heartbeat cycle")
      expect(agents).toContain("/healthz")
      expect(agents).toContain("/openapi.json")
      expect(agents).toContain(`--arg tag "${ROLE_TAG[role]}"`)
      expect(agents).toContain("HEARTBEAT_OK")
      const context = contextFor(role)
      for (const value of [context.agent_name, context.agent_id, context.gateway_agent_id, context.workspace_path, context.workspace_root]) {
        expect(agents).toContain(value)
      }
      if (role === "main") expect(agents).not.toContain("Board id")
      else expect(agents).toContain("`b1-board`")
    })

    it("writes the token exactly once, in AGENTS.md, and warns that it is secret", () => {
      expect(occurrences(agents, TOKEN)).toBe(1)
      expect(agents).toMatch(/## Credentials \(SECRET\)/)
      expect(agents).toMatch(/Never paste the token into chat, MEMORY\.md/)
      for (const [name, text] of files) if (name !== "AGENTS.md") expect(text, name).not.toContain(TOKEN)
    })

    it("renders only its own role section", () => {
      const sections = { worker: "## Your role: board worker", lead: "## Your role: board lead", main: "## Your role: gateway main agent" }
      for (const [other, heading] of Object.entries(sections)) {
        if (other === role) expect(agents).toContain(heading)
        else expect(agents).not.toContain(heading)
      }
      expect(file(files, "BOOTSTRAP.md")).toContain(`api/${ROLE_TAG[role]}-operations.tsv`)
    })

    it("ends BOOTSTRAP.md with 'delete this file'", () => {
      expect(file(files, "BOOTSTRAP.md").trimEnd()).toMatch(/delete this file\.$/)
    })

    it("fills IDENTITY.md, SOUL.md, USER.md and MEMORY.md from the context", () => {
      const identity = file(files, "IDENTITY.md")
      for (const text of ["Backend Engineer", ":wrench:", "terse", "high", "hourly", "Keep the API green.", "Always cite the test you ran."]) {
        expect(identity).toContain(text)
      }
      const soul = file(files, "SOUL.md")
      for (const text of ["Backend Engineer", "Keep the API green.", "Patient and exact.", "terse"]) expect(soul).toContain(text)
      const user = file(files, "USER.md")
      for (const text of ["Grace Hopper", "**What to call them:** Grace\n", "she/her", "Europe/Paris", "Prefers mornings.", "Runs the compiler team."]) {
        expect(user).toContain(text)
      }
      const memory = file(files, "MEMORY.md")
      if (role === "main") expect(memory).not.toContain("Launch Board")
      else for (const text of ["Launch Board", "Ship v1 by Friday", "b1-board"]) expect(memory).toContain(text)
    })
  })

  it("renders only requested names it has a template for, and skips BOOTSTRAP.md when told", () => {
    const files = render(request(contextFor("worker"), { files: ["TOOLS.md", "HEARTBEAT.md", "AGENTS.md", "BOOTSTRAP.md", "AGENTS.md"], includeBootstrap: false }))
    expect([...files.keys()]).toEqual(["AGENTS.md"])
    expect(render(request(contextFor("worker"), { files: ["BOOTSTRAP.md"] })).has("BOOTSTRAP.md")).toBe(true)
  })

  it("renders the fallbacks for an empty user and objective", () => {
    const context: TemplateContext = { ...contextFor("lead"), user_name: "", user_preferred_name: "", board_objective: "" }
    const files = render(request(context))
    expect(file(files, "USER.md")).toContain("**Name:** (not given)")
    expect(file(files, "MEMORY.md")).toContain("**Objective:** (not set yet)")
  })

  describe("failures", () => {
    it("fails with TemplateRenderError when a context variable is missing", () => {
      const { workspace_path: _dropped, ...partial } = contextFor("worker")
      const error = renderError(request(partial as unknown as TemplateContext))
      expect(error).toBeInstanceOf(TemplateRenderError)
      expect(error._tag).toBe("TemplateRenderError")
      expect(error.reason).toContain("workspace_path")
      expect(error.reason).not.toContain(TOKEN)
    })

    it("fails when a role flag is missing rather than rendering a worker by default", () => {
      const { is_board_lead: _dropped, ...partial } = contextFor("lead")
      const error = renderError(request(partial as unknown as TemplateContext))
      expect(error.reason).toContain("is_board_lead")
    })
  })

  describe("identity and soul overrides", () => {
    const withOverrides = (overrides: RenderRequest["overrides"], files: ReadonlyArray<string> = ["IDENTITY.md", "SOUL.md"]) =>
      request(contextFor("worker"), { overrides, files })

    it("substitutes plain placeholders that name context keys", () => {
      const files = render(withOverrides({
        identityTemplate: "# Me\nI am {{agent_name}} ({{ identity_role }}) on {{  board_name  }}, lead={{ is_board_lead }}.",
        soulTemplate: "Soul of {{ agent_name }}, tz {{ user_timezone }}"
      }))
      expect(file(files, "IDENTITY.md")).toBe("# Me\nI am Ada Worker (Backend Engineer) on Launch Board, lead=false.\n")
      expect(file(files, "SOUL.md")).toBe("Soul of Ada Worker, tz Europe/Paris\n")
    })

    it("substitutes in one pass, so a value that looks like a placeholder stays literal", () => {
      const context: TemplateContext = { ...contextFor("worker"), agent_name: "{{ auth_token }}" }
      const files = render(request(context, { files: ["SOUL.md"], overrides: { soulTemplate: "I am {{ agent_name }}" } }))
      expect(file(files, "SOUL.md")).toBe("I am {{ auth_token }}\n")
    })

    it("uses the default template when an override is null or blank", () => {
      const files = render(withOverrides({ identityTemplate: null, soulTemplate: "  \n " }))
      expect(file(files, "IDENTITY.md")).toMatch(/^# IDENTITY\.md/)
      expect(file(files, "SOUL.md")).toMatch(/^# SOUL\.md/)
    })

    it("never evaluates nunjucks in an override", () => {
      const globals = globalThis as { __switchyardPwned?: unknown }
      const attacks = [
        `{{ range.constructor("return process")() }}`,
        `{{ range.constructor("globalThis.__switchyardPwned = 1")() }}`,
        `{% set x = cycler.constructor("globalThis.__switchyardPwned = 2")() %}`,
        `{{ agent_name | upper }} {% if true %}yes{% endif %} {# comment #}`
      ]
      for (const attack of attacks) {
        const files = render(withOverrides({ soulTemplate: attack }, ["SOUL.md"]))
        expect(file(files, "SOUL.md")).toBe(`${attack}\n`)
      }
      expect(globals.__switchyardPwned).toBeUndefined()
    })

    it("fails on an unknown placeholder, naming it", () => {
      const error = renderError(withOverrides({ soulTemplate: "Hello {{ agent_name }} {{ secret_sauce }}" }))
      expect(error).toBeInstanceOf(TemplateRenderError)
      expect(error.file).toBe("SOUL.md")
      expect(error.reason).toContain("secret_sauce")
    })

    it("refuses to put the token into an override, without quoting it", () => {
      const error = renderError(withOverrides({ identityTemplate: "leak: {{ auth_token }}" }))
      expect(error.file).toBe("IDENTITY.md")
      expect(error.reason).toContain("auth_token")
      expect(error.reason).not.toContain(TOKEN)
    })

    it("does not read inherited properties as placeholders", () => {
      const error = renderError(withOverrides({ soulTemplate: "{{ constructor }} {{ __proto__ }} {{ toString }}" }))
      expect(error.reason).toContain("constructor")
    })
  })

  describe("error text never contains the token", () => {
    it("scrubs the token when it appears in the underlying message", () => {
      // A placeholder spelled like the token would echo it back in the reason.
      const token = "tok_leaky123"
      const context: TemplateContext = { ...contextFor("worker"), auth_token: token }
      const error = renderError(request(context, { files: ["SOUL.md"], overrides: { soulTemplate: `{{ ${token} }}` } }))
      expect(error.reason).toContain("[redacted]")
      expect(`${error.reason} ${error.message} ${String(error)} ${JSON.stringify(error)}`).not.toContain(token)
    })

    it("scrubs it from context validation failures", () => {
      const token = "workspace_path"
      const { workspace_path: _dropped, ...partial } = { ...contextFor("worker"), auth_token: token }
      const error = renderError(request(partial as unknown as TemplateContext))
      expect(error.reason).not.toContain(token)
    })
  })
})
