import { Data } from "effect"

/**
 * A workspace file could not be rendered: a template referenced a missing variable, the context
 * failed validation, or an override used an unknown placeholder. Terminal (retrying renders the
 * same thing). `reason` never contains the agent's token; build it with `templateRenderError`.
 */
export class TemplateRenderError extends Data.TaggedError("TemplateRenderError")<{
  /** Workspace file name, e.g. `AGENTS.md`. */
  readonly file: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.file}: ${this.reason}`
  }
}

const REDACTED = "[redacted]"

/** Replaces every occurrence of `secret` in `text`; an empty secret leaves the text alone. */
export const redactSecret = (text: string, secret: string): string =>
  secret.length > 0 ? text.split(secret).join(REDACTED) : text

/**
 * Builds a `TemplateRenderError` from any failure, scrubbing `secret` out of the reason, because
 * nunjucks and zod messages may quote template values and the error ends up in logs and snapshots.
 * The original error is deliberately not kept as `cause`, since it may carry the secret.
 */
export const templateRenderError = (file: string, failure: unknown, secret: string): TemplateRenderError => {
  const raw = failure instanceof Error ? failure.message : String(failure)
  return new TemplateRenderError({ file, reason: redactSecret(raw, secret) })
}
