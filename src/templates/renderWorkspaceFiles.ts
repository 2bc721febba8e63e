import { Effect } from "effect"
import { substitutePlaceholders } from "./substitutePlaceholders.ts"
import { TemplateContext } from "./TemplateContext.ts"
import { templateRenderError, type TemplateRenderError } from "./TemplateRenderError.ts"
import { templateEnvironment } from "./templateEnvironment.ts"

/**
 * Workspace files Switchyard has a template for: exactly the names the OpenClaw gateway accepts
 * (docs/gateway-protocol.md §0.8). TOOLS.md and HEARTBEAT.md are refused there, so AGENTS.md carries them.
 * Each `<name>` is rendered from `templates/<name>.njk`.
 */
export const TEMPLATE_FILES: ReadonlySet<string> = new Set([
  "AGENTS.md",
  "SOUL.md",
  "USER.md",
  "IDENTITY.md",
  "MEMORY.md",
  "BOOTSTRAP.md"
])

/**
 * Files the agent edits itself: written when missing, never overwritten once they exist
 * (docs/operations.md §6.9). The writer applies this, not the renderer.
 */
export const PRESERVED_FILES: ReadonlySet<string> = new Set(["USER.md", "MEMORY.md"])

/** What to render for one agent. */
export interface RenderRequest {
  context: TemplateContext
  /** Names the gateway supports for this agent; others are skipped. */
  files: ReadonlyArray<string>
  /** From `shouldIncludeBootstrap`; when false BOOTSTRAP.md is not rendered. */
  includeBootstrap: boolean
  /** Stored per-agent replacements (plain `{{ name }}` placeholders only); blank means "use the default". */
  overrides: { identityTemplate?: string | null; soulTemplate?: string | null }
}

const overrideFor = (name: string, overrides: RenderRequest["overrides"]): string | undefined => {
  const text = name === "IDENTITY.md" ? overrides.identityTemplate : name === "SOUL.md" ? overrides.soulTemplate : undefined
  return text !== null && text !== undefined && text.trim().length > 0 ? text : undefined
}

const renderTemplate = (name: string, context: TemplateContext): Effect.Effect<string, TemplateRenderError> =>
  Effect.try({
    try: () => templateEnvironment.render(`${name}.njk`, context),
    catch: (error) => templateRenderError(name, error, context.auth_token)
  })

/**
 * Renders the workspace files for one agent: `file name → content` (trimmed, one trailing newline),
 * in name order. Renders only names that are both in `files` and in `TEMPLATE_FILES`, drops
 * BOOTSTRAP.md unless `includeBootstrap`, and uses a non-blank identity/soul override instead of the
 * default template (docs/operations.md §6.9). Fails with `TemplateRenderError` when the
 * context is invalid, a template needs a missing variable, or an override has a bad placeholder.
 */
export const renderWorkspaceFiles: (req: RenderRequest) => Effect.Effect<ReadonlyMap<string, string>, TemplateRenderError> =
  Effect.fn("Templates.renderWorkspaceFiles")(function* (req: RenderRequest) {
    // Validate at the edge so a missing flag fails loudly too; `{% if %}` would read it as false.
    const parsed = TemplateContext.safeParse(req.context)
    if (!parsed.success) {
      const token = typeof req.context.auth_token === "string" ? req.context.auth_token : ""
      const fields = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")
      return yield* Effect.fail(templateRenderError("(context)", `invalid template context: ${fields}`, token))
    }
    const context = parsed.data
    const rendered = new Map<string, string>()
    for (const name of [...new Set(req.files)].sort()) {
      if (!TEMPLATE_FILES.has(name)) continue
      if (name === "BOOTSTRAP.md" && !req.includeBootstrap) continue
      const override = overrideFor(name, req.overrides)
      const text = override === undefined
        ? yield* renderTemplate(name, context)
        : yield* substitutePlaceholders(name, override, context)
      rendered.set(name, `${text.trim()}\n`)
    }
    return rendered
  })

/**
 * Whether BOOTSTRAP.md goes out with this write (docs/architecture.md §5.2, docs/operations.md §6.9):
 * always on provision or when forced; on update never to a workspace the gateway reports as empty,
 * never once the agent has deleted it (listed with `missing: true`), otherwise yes (still present,
 * or simply not listed).
 */
export const shouldIncludeBootstrap = (args: {
  action: "provision" | "update"
  forceBootstrap: boolean
  existing: ReadonlyMap<string, { missing: boolean }>
}): boolean => {
  if (args.action !== "update" || args.forceBootstrap) return true
  if (args.existing.size === 0) return false
  return args.existing.get("BOOTSTRAP.md")?.missing !== true
}
