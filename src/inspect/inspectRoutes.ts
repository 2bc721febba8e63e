import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { inspectAssets } from "./inspectAssets.ts"

/**
 * The visualiser (README "Visualiser"): `GET /inspect` is the page, `GET /inspect/assets/:name`
 * its scripts, stylesheet and ELK. Public: they hold no data; the page asks for the admin
 * token and reads everything through the admin API.
 */
export const inspectRoutes = HttpRouter.empty.pipe(
  // No inline script or style, no eval (ELK's build needs none): injected markup could not run.
  HttpRouter.get("/inspect", inspectAssets.page({ inlineStyles: false })),
  HttpRouter.get(
    "/inspect/assets/:name",
    Effect.flatMap(HttpRouter.params, (params) => inspectAssets.file(params["name"]))
  )
)
