import { Effect } from "effect"
import type { TemplateContext } from "./TemplateContext.ts"
import { templateRenderError, type TemplateRenderError } from "./TemplateRenderError.ts"

// Only `{{ name }}` with a bare identifier; anything with dots, calls or filters stays literal text.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g

// The token lives only in AGENTS.md. A lead may set a worker's SOUL.md and read it back
// (docs/operations.md §6.2, §6.9), so letting overrides name it would leak the worker's token.
const FORBIDDEN = new Set<string>(["auth_token"])

/**
 * Fills `{{ name }}` placeholders in a user- or agent-supplied override (IDENTITY.md / SOUL.md)
 * from the context, in a single pass, leaving every other character literal.
 *
 * Overrides are never evaluated as nunjucks: a nunjucks template can reach `constructor` and run
 * arbitrary JS on this server. An unknown or forbidden placeholder fails with
 * `TemplateRenderError` rather than rendering a half-filled file.
 */
export const substitutePlaceholders = (
  file: string,
  source: string,
  context: TemplateContext
): Effect.Effect<string, TemplateRenderError> => {
  const values: Readonly<Record<string, string | boolean>> = context
  const rejected = new Set<string>()
  const text = source.replace(PLACEHOLDER, (match, name: string) => {
    if (FORBIDDEN.has(name) || !Object.hasOwn(values, name)) {
      rejected.add(name)
      return match
    }
    return String(values[name])
  })
  if (rejected.size === 0) return Effect.succeed(text)
  const names = [...rejected].map((name) => `{{ ${name} }}`).join(", ")
  return Effect.fail(templateRenderError(file, `override uses unknown or forbidden placeholder(s) ${names}`, context.auth_token))
}
