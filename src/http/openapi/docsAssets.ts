import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect } from "effect"

/** A file of the docs page, read once and kept in memory with its ETag. */
export interface DocsAsset {
  readonly body: Uint8Array
  readonly contentType: string
  readonly etag: string
}

/** The name is not one of the docs page's files, or reading it failed. */
export class DocsAssetMissing extends Data.TaggedError("DocsAssetMissing")<{ readonly name: string }> {}

const PAGE_DIR = fileURLToPath(new URL("./docsPage/", import.meta.url))
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"))

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png"
}

/**
 * Every file the docs page loads, by name: our page, stylesheet and start-up script, and Swagger
 * UI's browser build from `swagger-ui-dist` in node_modules (no CDN). A fixed allow-list:
 * request paths never reach the file system.
 */
const FILES: ReadonlyMap<string, string> = new Map([
  ["index.html", path.join(PAGE_DIR, "index.html")],
  ["docs.js", path.join(PAGE_DIR, "docs.js")],
  ["docs.css", path.join(PAGE_DIR, "docs.css")],
  ["swagger-ui-bundle.js", path.join(SWAGGER_UI_DIR, "swagger-ui-bundle.js")],
  ["swagger-ui.css", path.join(SWAGGER_UI_DIR, "swagger-ui.css")],
  ["favicon-32x32.png", path.join(SWAGGER_UI_DIR, "favicon-32x32.png")]
])

const cache = new Map<string, Promise<DocsAsset>>()

const load = async (file: string): Promise<DocsAsset> => {
  const body = await readFile(file)
  return {
    body,
    contentType: TYPES[path.extname(file)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`
  }
}

/** The docs file called `name` (e.g. `swagger-ui-bundle.js`), read on first use and cached. */
export const docsAsset = (name: string): Effect.Effect<DocsAsset, DocsAssetMissing> => {
  const file = FILES.get(name)
  if (file === undefined) return Effect.fail(new DocsAssetMissing({ name }))
  return Effect.tryPromise({
    try: () => {
      let pending = cache.get(name)
      if (pending === undefined) {
        pending = load(file)
        cache.set(name, pending)
        // A failed read is not remembered: the next request tries again.
        pending.catch(() => cache.delete(name))
      }
      return pending
    },
    catch: () => new DocsAssetMissing({ name })
  })
}
