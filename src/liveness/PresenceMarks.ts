/**
 * Which gateway agent ids the last `agents.list` named, kept across reconciliations
 * (docs/operations.md §8): each round marks the ids it lists with its round number in the same
 * map, so a round over an unchanged fleet allocates no set of its own (at 100,000 agents a new
 * set per round is megabytes for the collector). Ids no longer listed are dropped by `mark`.
 */
export class PresenceMarks {
  private round = 0
  private readonly seen = new Map<string, number>()

  /** Starts a round: `ids` are the listed ones from now on (the previous round's are forgotten). */
  mark(entries: Iterable<{ readonly id: string }>): void {
    const round = ++this.round
    for (const entry of entries) this.seen.set(entry.id, round)
    for (const [id, at] of this.seen) if (at !== round) this.seen.delete(id)
  }

  /** Whether the last `mark` listed `id`. */
  has(id: string): boolean {
    return this.seen.get(id) === this.round
  }

  /** The ids the last `mark` listed (each once). */
  ids(): IterableIterator<string> {
    return this.seen.keys()
  }
}
