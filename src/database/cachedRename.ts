/**
 * `rename` (a column-name case transform, e.g. `String.snakeToCamel`) with its answers kept:
 * the same name is transformed once, not once per row (docs/architecture.md §6.5: the driver
 * renames every key of every result row, and a character-by-character transform allocates a
 * string per character). Names are the schema's and the statements' own, so the set is small;
 * past `limit` distinct names the cache starts afresh (bounded memory for any input).
 */
export const cachedRename = (rename: (name: string) => string, limit = 4_096): ((name: string) => string) => {
  let known = new Map<string, string>()
  return (name) => {
    const hit = known.get(name)
    if (hit !== undefined) return hit
    const renamed = rename(name)
    if (known.size >= limit) known = new Map()
    known.set(name, renamed)
    return renamed
  }
}
