import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { inspectAsset } from "./inspectAssets.ts"

/**
 * Only the service itself: no CDN, no inline script, no eval (ELK's build needs none), so the
 * page provably works offline and injected markup could not run.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

/**
 * An asset with an ETag: `no-cache` makes the browser revalidate, so a restarted service with
 * new client code is picked up at once and an unchanged one answers 304.
 */
const serve = (name: string, headers: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const asset = yield* inspectAsset(name)
    const common = { etag: asset.etag, "cache-control": "no-cache", "x-content-type-options": "nosniff", ...headers }
    if (request.headers["if-none-match"] === asset.etag) return HttpServerResponse.empty({ status: 304, headers: common })
    return HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers: common })
  }).pipe(Effect.catchTag("InspectAssetMissing", () => Effect.succeed(HttpServerResponse.unsafeJson({ detail: "not found" }, { status: 404 }))))

const page = serve("index.html", { "content-security-policy": PAGE_POLICY, "referrer-policy": "no-referrer" })

/**
 * The visualiser (README "Visualiser"): `GET /inspect` is the page, `GET /inspect/assets/:name`
 * its scripts, stylesheet and ELK. Public: they hold no data; the page asks for the admin
 * token and reads everything through the admin API.
 */
export const inspectRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/inspect", page),
  HttpRouter.get(
    "/inspect/assets/:name",
    // The page itself only at /inspect, where it gets its Content-Security-Policy.
    Effect.flatMap(HttpRouter.params, (params) => serve(params["name"] === "index.html" ? "" : (params["name"] ?? "")))
  )
)
