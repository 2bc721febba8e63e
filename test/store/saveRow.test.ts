import { randomBytes, randomUUID } from "node:crypto"
import { describe, expect, it } from "vitest"
import type { AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import { projectSnapshot, type AgentProjection } from "../../src/agents/agentProjection.ts"
import { derivable, FROM_CONTEXT, SAVE_ROW, saveRow } from "../../src/store/saveRow.ts"
import { makeHarness } from "../machines/agentHarness.ts"

type Members = Record<string, unknown>

/**
 * An agent's persisted snapshot after its first check-in, each context member a derived row reads
 * (`FROM_CONTEXT`) set to a value of its own, and the projection of that snapshot.
 */
const distinctSnapshot = () => {
  const h = makeHarness({ applyOutput: { tokenHash: randomBytes(32).toString("hex") } })
  h.advance(20)
  h.send({ type: "agent.heartbeat", at: h.now() })
  const snapshot = structuredClone(h.actor.getPersistedSnapshot()) as unknown as { value: unknown; context: Members }
  for (const [column, path, kind] of FROM_CONTEXT) {
    const keys = path.split(",")
    const parent = keys.slice(0, -1).reduce((members, key) => members[key] as Members, snapshot.context)
    parent[keys.at(-1)!] = kind === "uuid" ? randomUUID() : kind === "json" ? { column } : `value of ${column}`
  }
  const projection = projectSnapshot(snapshot as unknown as Pick<AgentSnapshot, "value" | "context">)
  return { snapshot, projection }
}

const contextAt = (snapshot: { context: Members }, path: string): unknown => path.split(",").reduce<unknown>((members, key) => (members as Members)[key], snapshot.context)

/** The full row of a projection (a projection without liveness never derives). */
const fullRow = (projection: AgentProjection): Members => {
  const row: Members = saveRow({ id: "a", projection: { ...projection, liveness: null }, snapshot: {}, version: 1 })
  expect(row["derived"]).toBe(false)
  return row
}

/** A value of the same kind that is not the same value (a copy, for an object: `derivable` compares by identity). */
const other = (value: unknown): unknown =>
  value === null ? "set" : typeof value === "string" ? `${value}, changed` : value instanceof Date ? new Date(value.getTime() + 1) : structuredClone(value)

const FROM_CONTEXT_COLUMNS = FROM_CONTEXT.map(([column]) => column).sort()

/** `saveRow`'s two lists agree (docs/architecture.md §6.5): what a derived row takes from the snapshot is what `derivable` checks. */
describe("derived save rows", () => {
  it("each column a derived row takes from the context is the projection's value at that path, and that projection derives", () => {
    const { snapshot, projection } = distinctSnapshot()
    expect(derivable(projection, snapshot)).toBe(true)
    const full = fullRow(projection)
    for (const [column, path] of FROM_CONTEXT) expect(full[column], column).toBe(contextAt(snapshot, path))
  })

  it("a full row's columns are the derived row's own, those taken from the context and liveness: none left out, none twice", () => {
    const { snapshot, projection } = distinctSnapshot()
    const derived = saveRow({ id: "a", projection, snapshot, version: 1 })
    expect(derived.derived).toBe(true)
    const own = Object.keys(derived).filter((key) => key !== "derived" && key !== "silence_limit_ms")
    expect(own.filter((key) => FROM_CONTEXT_COLUMNS.includes(key))).toEqual([])
    expect(Object.keys(fullRow(projection)).sort()).toEqual([...own, ...FROM_CONTEXT_COLUMNS, "liveness", "derived"].sort())
    for (const column of Object.keys(fullRow(projection))) expect(SAVE_ROW, column).toMatch(new RegExp(`(^|[ ,])${column} `))
  })

  it("derivable checks every column taken from the context: a projection that differs in any one of them saves a full row", () => {
    const { snapshot, projection } = distinctSnapshot()
    const full = fullRow(projection)
    const checked = new Set<string>()
    for (const member of Object.keys(projection).filter((key) => key !== "liveness") as Array<keyof AgentProjection>) {
      const changed = { ...projection, [member]: other(projection[member]) } as AgentProjection
      const columns = Object.entries(fullRow(changed)).filter(([column, value]) => FROM_CONTEXT_COLUMNS.includes(column) && value !== full[column])
      if (columns.length === 0) continue
      expect(derivable(changed, snapshot), member).toBe(false)
      for (const [column] of columns) checked.add(column)
    }
    expect([...checked].sort()).toEqual(FROM_CONTEXT_COLUMNS)
  })
})
