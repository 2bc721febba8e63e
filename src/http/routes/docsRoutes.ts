import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { docsAsset } from "../openapi/docsAssets.ts"
import { openApiDocument } from "../openapi/openApiDocument.ts"
import { json } from "../respond.ts"

/**
 * Only the service itself: the page works offline and cannot reach anything else. Swagger UI
 * sets inline styles, hence `'unsafe-inline'` for styles only; its icons are `data:` images.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

/** An asset with an ETag; `no-cache` revalidates, so an upgraded service is picked up at once. */
const serve = (name: string, headers: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const asset = yield* docsAsset(name)
    const common = { etag: asset.etag, "cache-control": "no-cache", "x-content-type-options": "nosniff", ...headers }
    if (request.headers["if-none-match"] === asset.etag) return HttpServerResponse.empty({ status: 304, headers: common })
    return HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers: common })
  }).pipe(Effect.catchTag("DocsAssetMissing", () => Effect.succeed(json({ detail: "not found" }, 404))))

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document, generated from the zod contract) and `GET /docs`
 * (Swagger UI over it, served from node_modules). Public: agents discover their operations here.
 */
export const docsRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/openapi.json", Effect.sync(() => json(openApiDocument()))),
  HttpRouter.get("/docs", serve("index.html", { "content-security-policy": PAGE_POLICY, "referrer-policy": "no-referrer" })),
  HttpRouter.get(
    "/docs/:asset",
    // The page itself only at /docs, where it gets its Content-Security-Policy.
    Effect.flatMap(HttpRouter.params, (params) => serve(params["asset"] === "index.html" ? "" : (params["asset"] ?? "")))
  )
)
