import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { staticAssets } from "../staticAssets.ts"

const PAGE_DIR = fileURLToPath(new URL("./docsPage/", import.meta.url))
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"))

/**
 * Every file the docs page loads: our page, stylesheet and start-up script, and Swagger UI's
 * browser build from `swagger-ui-dist` in node_modules (no CDN).
 */
export const docsAssets = staticAssets(
  new Map([
    ["index.html", path.join(PAGE_DIR, "index.html")],
    ["docs.js", path.join(PAGE_DIR, "docs.js")],
    ["docs.css", path.join(PAGE_DIR, "docs.css")],
    ["swagger-ui-bundle.js", path.join(SWAGGER_UI_DIR, "swagger-ui-bundle.js")],
    ["swagger-ui.css", path.join(SWAGGER_UI_DIR, "swagger-ui.css")],
    ["favicon-32x32.png", path.join(SWAGGER_UI_DIR, "favicon-32x32.png")]
  ])
)
