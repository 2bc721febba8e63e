import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import path from "node:path"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Data, Effect } from "effect"

/** A served file, read once and kept in memory with its ETag. */
export interface StaticAsset {
  readonly body: Uint8Array
  readonly contentType: string
  readonly etag: string
}

/** The name is not one of the allow-listed files, or reading it failed. */
export class StaticAssetMissing extends Data.TaggedError("StaticAssetMissing")<{ readonly name: string }> {}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png"
}

/** Whether a file of this name can be served (its content type is known). */
export const isServable = (name: string): boolean => TYPES[path.extname(name)] !== undefined

/**
 * A page's Content-Security-Policy: only the service itself, so the page works offline and
 * injected markup cannot reach anything else. `inlineStyles` for libraries that set style
 * attributes (Swagger UI); scripts are never inline.
 */
const pagePolicy = (options: { readonly inlineStyles: boolean }): string =>
  [
    "default-src 'self'",
    "script-src 'self'",
    options.inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join("; ")

const load = async (file: string): Promise<StaticAsset> => {
  const body = await readFile(file)
  return {
    body,
    contentType: TYPES[path.extname(file)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`
  }
}

/**
 * Serves a fixed allow-list of files (name → path; request paths never reach the file system),
 * each read on first use and cached, with an ETag and `no-cache` (the browser revalidates, so a
 * restarted service's new files are picked up at once); 304 when the ETag matches, a JSON 404
 * for any other name. `page` is `index.html` with its Content-Security-Policy; `file(name)` any
 * other listed file (the page itself only through `page`, where it gets its policy). Used by
 * `/docs` and `/inspect`.
 */
export const staticAssets = (files: ReadonlyMap<string, string>) => {
  const cache = new Map<string, Promise<StaticAsset>>()
  const asset = (name: string): Effect.Effect<StaticAsset, StaticAssetMissing> => {
    const file = files.get(name)
    if (file === undefined) return Effect.fail(new StaticAssetMissing({ name }))
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
      catch: () => new StaticAssetMissing({ name })
    })
  }
  const serve = (name: string, headers: Record<string, string> = {}) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const found = yield* asset(name)
      const common = { etag: found.etag, "cache-control": "no-cache", "x-content-type-options": "nosniff", ...headers }
      if (request.headers["if-none-match"] === found.etag) return HttpServerResponse.empty({ status: 304, headers: common })
      return HttpServerResponse.uint8Array(found.body, { contentType: found.contentType, headers: common })
    }).pipe(Effect.catchTag("StaticAssetMissing", () => Effect.succeed(HttpServerResponse.unsafeJson({ detail: "not found" }, { status: 404 }))))
  const page = (policy: { readonly inlineStyles: boolean }) =>
    serve("index.html", { "content-security-policy": pagePolicy(policy), "referrer-policy": "no-referrer" })
  const file = (name: string | undefined) => serve(name === undefined || name === "index.html" ? "" : name)
  return { page, file }
}
