import { buildTemplateContext, type TemplateContext, type TemplateInput } from "../../src/templates/TemplateContext.ts"

export type Role = "worker" | "lead" | "main"
export const ROLES: ReadonlyArray<Role> = ["worker", "lead", "main"]

export const TOKEN = "tok_Zq81_secret_value"
export const BASE_URL = "http://switchyard.test:8080"

/** A full input for each role: every optional user and identity field set. */
export const inputFor = (role: Role): TemplateInput => ({
  agent: {
    id: "0b7c2d1e-1111-4222-8333-944445555666",
    name: "Ada Worker",
    gatewayAgentId: role === "main" ? "mc-gateway-g1" : role === "lead" ? "lead-b1" : "mc-0b7c2d1e",
    sessionKey: role === "main" ? "agent:mc-gateway-g1:main" : "agent:mc-0b7c2d1e:main",
    workspacePath: "/srv/openclaw/workspace-mc-0b7c2d1e",
    isBoardLead: role === "lead",
    isMainAgent: role === "main",
    identityProfile: {
      role: "Backend Engineer",
      communication_style: "terse",
      emoji: ":wrench:",
      autonomy_level: "high",
      verbosity: "low",
      output_format: "markdown",
      update_cadence: "hourly",
      purpose: "Keep the API green.",
      personality: "Patient and exact.",
      custom_instructions: "Always cite the test you ran."
    },
    heartbeatEvery: "10m"
  },
  board: role === "main" ? null : { id: "b1-board", name: "Launch Board", objective: "Ship v1 by Friday", boardType: "goal" },
  gateway: { workspaceRoot: "/srv/openclaw", mainSessionKey: "agent:mc-gateway-g1:main" },
  user: {
    name: "Grace Hopper",
    preferredName: "Grace B",
    pronouns: "she/her",
    timezone: "Europe/Paris",
    notes: "Prefers mornings.",
    context: "Runs the compiler team."
  },
  baseUrl: BASE_URL,
  authToken: TOKEN
})

export const contextFor = (role: Role): TemplateContext => buildTemplateContext(inputFor(role))

export const ALL_FILES = ["AGENTS.md", "SOUL.md", "USER.md", "IDENTITY.md", "MEMORY.md", "BOOTSTRAP.md"] as const
