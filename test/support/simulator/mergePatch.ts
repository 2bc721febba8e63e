import { isDeepStrictEqual } from "node:util"
import { isPlainObject } from "./checkParams.ts"

/**
 * JSON merge patch as config.patch applies it (docs/gateway-protocol.md §5):
 * objects merge, `null` deletes, anything else (arrays included) replaces. The real gateway also
 * merges arrays of `{id}` objects by id; the simulator does not.
 */
export function mergePatch(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch)
  const out: Record<string, unknown> = isPlainObject(base) ? structuredClone(base) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }
  return out
}

/** Dotted leaf paths that differ; arrays count as leaves (real `diffConfigLeafPaths`). */
export function diffLeafPaths(prev: unknown, next: unknown, prefix = ""): Array<string> {
  if (isPlainObject(prev) || isPlainObject(next)) {
    const a = isPlainObject(prev) ? prev : {}
    const b = isPlainObject(next) ? next : {}
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    if (keys.length === 0) return isDeepStrictEqual(prev, next) ? [] : [prefix || "<root>"]
    return keys.flatMap((key) => diffLeafPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key))
  }
  return isDeepStrictEqual(prev, next) ? [] : [prefix || "<root>"]
}

/**
 * Array paths the patch would shrink without being listed in `replacePaths`
 * (the gateway refuses those: `config.patch would remove entries from array path(s): …`).
 */
export function destructiveArrayPaths(base: unknown, patch: unknown, replacePaths: ReadonlyArray<string>, prefix = ""): Array<string> {
  if (!isPlainObject(patch) || !isPlainObject(base)) return []
  return Object.entries(patch).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key
    const before = base[key]
    if (Array.isArray(value) && Array.isArray(before)) {
      const lost = before.some((entry) => !value.some((kept) => isDeepStrictEqual(kept, entry)))
      return lost && !replacePaths.includes(path) ? [path] : []
    }
    return destructiveArrayPaths(before, value, replacePaths, path)
  })
}

export function getPath(root: unknown, dotted: string): unknown {
  let node = root
  for (const segment of dotted.split(".")) {
    if (!isPlainObject(node)) return undefined
    node = node[segment]
  }
  return node
}
