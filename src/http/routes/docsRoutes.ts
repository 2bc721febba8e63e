import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { docsAssets } from "../openapi/docsAssets.ts"
import { openApiDocument } from "../openapi/openApiDocument.ts"
import { json } from "../respond.ts"
import { pagePolicy } from "../staticAssets.ts"

/** Swagger UI sets inline styles; its icons are `data:` images. */
const PAGE_POLICY = pagePolicy({ inlineStyles: true })
const serve = docsAssets.serve

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
