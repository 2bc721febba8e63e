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

// Shared in place of a snapshot's empty `children` and `historyValue`: frozen, so a write throws.
const none: Readonly<Record<string, never>> = Object.freeze({})

/**
 * Points what XState builds anew for every snapshot and afterwards only reads at one shared copy
 * (docs/architecture.md §6.6), since an idle fleet keeps one snapshot per agent: its `tags` at one
 * set per distinct set of tags (a `Set` is about 190 bytes with its table, even empty), which
 * refuses changes (`SnapshotTagsShared`); an empty `children` or `historyValue` (about 56 bytes
 * each) at one frozen empty object (XState copies these before it changes them).
 */
export const shareSnapshotParts = (snapshot: { readonly tags: ReadonlySet<string>; readonly children: object; readonly historyValue: object }): void => {
  const mutable = snapshot as { tags: ReadonlySet<string>; children: object; historyValue: object }
  if (snapshot.children !== none && isEmpty(snapshot.children)) mutable.children = none
  if (snapshot.historyValue !== none && isEmpty(snapshot.historyValue)) mutable.historyValue = none
  const tags = snapshot.tags
  if (tags instanceof SharedTags) return
  // XState lists a state's tags in one order, so equal sets mostly share a key.
  const key = tags.size === 0 ? "" : [...tags].join("\u0000")
  let set = shared.get(key)
  if (set === undefined) {
    set = new SharedTags(tags)
    shared.set(key, set)
  }
  mutable.tags = set
}

const isEmpty = (value: object): boolean => {
  for (const _ in value) return false
  return true
}
