import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { docsAssets } from "../openapi/docsAssets.ts"
import { openApiDocument } from "../openapi/openApiDocument.ts"
import { json } from "../respond.ts"

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document, generated from the zod contract) and `GET /docs`
 * (Swagger UI over it, served from node_modules). Public: agents discover their operations here.
 */
export const docsRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/openapi.json", Effect.sync(() => json(openApiDocument()))),
  // Swagger UI sets inline styles; its icons are `data:` images.
  HttpRouter.get("/docs", docsAssets.page({ inlineStyles: true })),
  HttpRouter.get(
    "/docs/:asset",
    Effect.flatMap(HttpRouter.params, (params) => docsAssets.file(params["asset"]))
  )
)
