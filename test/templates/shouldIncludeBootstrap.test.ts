import { describe, expect, it } from "vitest"
import { shouldIncludeBootstrap } from "../../src/templates/renderWorkspaceFiles.ts"

type Existing = ReadonlyMap<string, { missing: boolean }>
const none: Existing = new Map()
const bootstrapPresent: Existing = new Map([["AGENTS.md", { missing: false }], ["BOOTSTRAP.md", { missing: false }]])
const bootstrapDeleted: Existing = new Map([["AGENTS.md", { missing: false }], ["BOOTSTRAP.md", { missing: true }]])
const bootstrapUnlisted: Existing = new Map([["AGENTS.md", { missing: false }]])

// The BOOTSTRAP.md rule (docs/architecture.md §5.2, docs/operations.md §6.9), row by row.
describe("shouldIncludeBootstrap", () => {
  it.each([
    ["provision", false, none, true],
    ["provision", false, bootstrapDeleted, true],
    ["provision", true, bootstrapDeleted, true],
    ["update", true, none, true],
    ["update", true, bootstrapDeleted, true],
    ["update", false, none, false],
    ["update", false, bootstrapDeleted, false],
    ["update", false, bootstrapPresent, true],
    ["update", false, bootstrapUnlisted, true]
  ] as const)("%s force=%s existing=%o → %s", (action, forceBootstrap, existing, expected) => {
    expect(shouldIncludeBootstrap({ action, forceBootstrap, existing })).toBe(expected)
  })
})
