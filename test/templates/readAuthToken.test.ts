import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { readAuthToken } from "../../src/templates/readAuthToken.ts"
import { renderWorkspaceFiles } from "../../src/templates/renderWorkspaceFiles.ts"
import { contextFor, ROLES, TOKEN } from "./contextFixture.ts"

describe("readAuthToken", () => {
  it.each(ROLES)("reads back the token the AGENTS.md template wrote for a %s", (role) => {
    const files = Effect.runSync(renderWorkspaceFiles({ context: contextFor(role), files: ["AGENTS.md"], includeBootstrap: false, overrides: {} }))
    expect(readAuthToken(files.get("AGENTS.md")!)).toBe(TOKEN)
  })

  it("finds nothing in a file without the export line, or with the token only in prose", () => {
    expect(readAuthToken("# AGENTS.md\nno credentials here\n")).toBeUndefined()
    expect(readAuthToken('Never write AUTH_TOKEN="sy_abc" anywhere but the export line.\n')).toBeUndefined()
  })
})
