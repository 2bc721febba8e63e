import { describe, expect, it } from "vitest"
import { PresenceMarks } from "../../src/liveness/PresenceMarks.ts"

describe("PresenceMarks", () => {
  it("answers for the last listing only: an id no longer listed is absent and forgotten", () => {
    const marks = new PresenceMarks()
    marks.mark([{ id: "mc-a" }, { id: "mc-b" }, { id: "mc-a" }])
    expect(marks.has("mc-a")).toBe(true)
    expect([...marks.ids()].sort()).toEqual(["mc-a", "mc-b"])
    marks.mark([{ id: "mc-b" }, { id: "mc-c" }])
    expect(marks.has("mc-a")).toBe(false)
    expect(marks.has("mc-b")).toBe(true)
    expect([...marks.ids()].sort()).toEqual(["mc-b", "mc-c"])
    marks.mark([])
    expect(marks.has("mc-b")).toBe(false)
    expect([...marks.ids()]).toEqual([])
  })
})
