import { describe, expect, it } from "vitest"
import { redactSecret, templateRenderError } from "../../src/templates/TemplateRenderError.ts"
import { templateEnvironment } from "../../src/templates/templateEnvironment.ts"

describe("templateEnvironment", () => {
  it("throws on an undefined variable instead of rendering a blank", () => {
    expect(() => templateEnvironment.renderString("Hello {{ nobody }}", {})).toThrow(/undefined/)
    expect(() => templateEnvironment.renderString("Hello {{ who.name }}", { who: {} })).toThrow()
    expect(templateEnvironment.renderString("Hello {{ who }}", { who: "" })).toBe("Hello ")
  })

  it("does not HTML-escape markdown", () => {
    expect(templateEnvironment.renderString("{{ x }}", { x: `<b>"a" & 'b'</b>` })).toBe(`<b>"a" & 'b'</b>`)
  })
})

describe("templateRenderError", () => {
  it("removes every copy of the secret from the reason and message", () => {
    const error = templateRenderError("AGENTS.md", new Error("bad value s3cr3t near s3cr3t"), "s3cr3t")
    expect(error.reason).toBe("bad value [redacted] near [redacted]")
    expect(error.message).toBe("AGENTS.md: bad value [redacted] near [redacted]")
    expect(error).not.toHaveProperty("cause")
  })

  it("leaves text alone for an empty secret", () => {
    expect(redactSecret("abc", "")).toBe("abc")
  })
})
