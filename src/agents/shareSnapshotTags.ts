import { Data } from "effect"

/** The error a change to a shared tag set meets: XState only reads a snapshot's tags (docs/architecture.md §6.6). */
export class SnapshotTagsShared extends Data.TaggedError("SnapshotTagsShared")<{ readonly tag: string }> {
  override get message(): string {
    return `agent snapshots share their tag sets: changing one (tag "${this.tag}") is not supported`
  }
}

/** A tag set that stays as made: reading works, changing throws. */
class SharedTags extends Set<string> {
  #sealed = false
  constructor(tags: Iterable<string>) {
    super()
    for (const tag of tags) super.add(tag)
    this.#sealed = true
  }
  override add(tag: string): this {
    if (this.#sealed) throw new SnapshotTagsShared({ tag })
    return super.add(tag)
  }
  override delete(tag: string): boolean {
    throw new SnapshotTagsShared({ tag })
  }
  override clear(): void {
    throw new SnapshotTagsShared({ tag: "" })
  }
}

// One set per distinct list of tags: the machine's states make a handful.
const shared = new Map<string, SharedTags>()

/**
 * Points a snapshot's `tags` at one shared set per distinct set of tags (docs/architecture.md
 * §6.6). XState builds a new `Set` for every snapshot (about 190 bytes with its table, even
 * empty) and afterwards only reads it (`hasTag`, `toJSON`); an idle fleet keeps one snapshot per
 * agent, so equal sets are kept once. The shared set refuses changes (`SnapshotTagsShared`).
 */
export const shareSnapshotTags = (snapshot: { readonly tags: ReadonlySet<string> }): void => {
  const tags = snapshot.tags
  if (tags instanceof SharedTags) return
  // XState lists a state's tags in one order, so equal sets mostly share a key.
  const key = tags.size === 0 ? "" : [...tags].join("\u0000")
  let set = shared.get(key)
  if (set === undefined) {
    set = new SharedTags(tags)
    shared.set(key, set)
  }
  ;(snapshot as { tags: ReadonlySet<string> }).tags = set
}
