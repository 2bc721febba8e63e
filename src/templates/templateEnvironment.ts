import nunjucks from "nunjucks"
import { fileURLToPath } from "node:url"

/** Absolute path of the repo's `templates/` directory (nunjucks sources, never user-supplied). */
export const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url))

/**
 * The one nunjucks Environment for workspace files (docs/architecture.md §9.6). `throwOnUndefined`
 * turns a missing variable into an error instead of a silently blank line; `autoescape` is off
 * because the output is markdown, not HTML. Only ever give it files from `TEMPLATES_DIR`, never
 * user-supplied template text.
 */
export const templateEnvironment = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR), {
  throwOnUndefined: true,
  autoescape: false,
  trimBlocks: true,
  lstripBlocks: true
})
