import { createHash } from "node:crypto"
import { readdirSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect } from "effect"

/** A file the visualiser serves, read once and kept in memory with its ETag. */
export interface InspectAsset {
  readonly body: Uint8Array
  readonly contentType: string
  readonly etag: string
}

/** The name is not one of the served files, or reading it failed. */
export class InspectAssetMissing extends Data.TaggedError("InspectAssetMissing")<{ readonly name: string }> {}

const CLIENT_DIR = fileURLToPath(new URL("./client/", import.meta.url))
const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8"
}

/**
 * Every servable file by name: the hand-written client (src/inspect/client, no build step) and
 * ELK's own browser build from node_modules, so the page works offline. A fixed allow-list:
 * request paths never reach the file system.
 */
const files: ReadonlyMap<string, string> = new Map([
  ...readdirSync(CLIENT_DIR)
    .filter((name) => TYPES[path.extname(name)] !== undefined)
    .map((name): [string, string] => [name, path.join(CLIENT_DIR, name)]),
  ["elk.bundled.js", createRequire(import.meta.url).resolve("elkjs/lib/elk.bundled.js")]
])

const cache = new Map<string, Promise<InspectAsset>>()

const load = async (file: string): Promise<InspectAsset> => {
  const body = await readFile(file)
  return {
    body,
    contentType: TYPES[path.extname(file)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`
  }
}

/** The asset called `name` (e.g. `main.js`, `elk.bundled.js`), read on first use and cached. */
export const inspectAsset = (name: string): Effect.Effect<InspectAsset, InspectAssetMissing> => {
  const file = files.get(name)
  if (file === undefined) return Effect.fail(new InspectAssetMissing({ name }))
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
    catch: () => new InspectAssetMissing({ name })
  })
}
