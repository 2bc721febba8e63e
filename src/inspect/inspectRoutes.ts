import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { pagePolicy } from "../http/staticAssets.ts"
import { inspectAssets } from "./inspectAssets.ts"

/** No inline script or style, no eval (ELK's build needs none): injected markup could not run. */
const PAGE_POLICY = pagePolicy({ inlineStyles: false })
const serve = inspectAssets.serve

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
