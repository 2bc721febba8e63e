import { String } from "effect"
import { describe, expect, it } from "vitest"
import { cachedRename } from "../../src/database/cachedRename.ts"

describe("cachedRename", () => {
  it("answers what the transform answers, calling it once per name", () => {
    const calls: string[] = []
    const rename = cachedRename((name) => (calls.push(name), String.snakeToCamel(name)))
    const names = ["t_agent_id", "created_at", "id", "t_agent_id", "created_at", "last_seen_at"]
    expect(names.map(rename)).toEqual(names.map(String.snakeToCamel))
    expect(calls).toEqual(["t_agent_id", "created_at", "id", "last_seen_at"])
  })

  it("keeps at most `limit` names, starting afresh past it", () => {
    const calls: string[] = []
    const rename = cachedRename((name) => (calls.push(name), name.toUpperCase()), 2)
    for (const name of ["a", "b", "c", "a", "c"]) rename(name)
    // "c" started a fresh cache holding only it, so "a" was renamed again and "c" was not.
    expect(calls).toEqual(["a", "b", "c", "a"])
    expect(rename("c")).toBe("C")
  })
})
