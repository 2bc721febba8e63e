import { readdirSync } from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { isServable, staticAssets } from "../http/staticAssets.ts"

const CLIENT_DIR = fileURLToPath(new URL("./client/", import.meta.url))

/**
 * Every file the visualiser serves: the hand-written client (src/inspect/client, no build step)
 * and ELK's own browser build from node_modules, so the page works offline.
 */
export const inspectAssets = staticAssets(
  new Map([
    ...readdirSync(CLIENT_DIR)
      .filter(isServable)
      .map((name): [string, string] => [name, path.join(CLIENT_DIR, name)]),
    ["elk.bundled.js", createRequire(import.meta.url).resolve("elkjs/lib/elk.bundled.js")]
  ])
)
