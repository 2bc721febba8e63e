import { RANKS_PER_TRANSACTION, type NewBeat } from "../store/changeCursor.ts"
import type { RankedTransition } from "../store/TransitionRepo.ts"
import type { AgentWrite } from "./AgentWrite.ts"

/** Writes per transaction at most (a 1,000-row statement stays far below Postgres' limits). */
export const MAX_BATCH = 1_000

/** The stream changes (transitions and beats) a write adds to its transaction. */
const changesOf = (write: AgentWrite) => write.transitions.length + (write.beat === undefined ? 0 : 1)

/**
 * The transitions and beats of `writes`, ranked in one transaction: in write order, each
 * agent's transitions in version order, its beat after them (docs/architecture.md §8.1).
 */
export const rankChanges = (writes: ReadonlyArray<AgentWrite>) => {
  const transitions: RankedTransition[] = []
  const beats: NewBeat[] = []
  let rank = 0
  for (const write of writes) {
    for (const transition of write.transitions) transitions.push({ ...transition, agentId: write.agentId, rank: rank++ })
    if (write.beat !== undefined) beats.push({ ...write.beat, agentId: write.agentId, version: write.version, rank: rank++ })
  }
  return { transitions, beats }
}

/**
 * `write` with at most `RANKS_PER_TRANSACTION` changes, so that its ranks fit the cursor
 * (docs/architecture.md §8.1) even alone in a transaction: beyond that, its oldest transitions
 * are dropped, as the history's trim would drop them. Only a writer that could not save for a
 * long time (the database unreachable) holds that many.
 */
export const boundChanges = (write: AgentWrite): AgentWrite => {
  const room = RANKS_PER_TRANSACTION - (write.beat === undefined ? 0 : 1)
  return write.transitions.length <= room ? write : { ...write, transitions: write.transitions.slice(-room) }
}

/**
 * The next batch of `pending`: its first writes that fit in one transaction (at most `MAX_BATCH`,
 * fewer than `RANKS_PER_TRANSACTION` changes, at least one write), skipping every write of an
 * agent in `busy` (a batch in flight holds one of its writes) or already in the batch, so that
 * batches in flight never share an agent (docs/architecture.md §6.5). `rest` keeps the writes
 * not taken, in order; `full`, whether the batch ended for lack of room (writes behind may be
 * taken at once) rather than of takeable writes.
 */
export const takeBatch = <Q extends { readonly write: AgentWrite }>(pending: ReadonlyArray<Q>, busy: ReadonlySet<string>) => {
  const batch: Q[] = []
  const rest: Q[] = []
  const taken = new Set<string>()
  let changes = 0
  let full = false
  for (const queued of pending) {
    const agentId = queued.write.agentId
    if (full || busy.has(agentId) || taken.has(agentId)) {
      rest.push(queued)
      continue
    }
    changes += changesOf(queued.write)
    if (batch.length > 0 && changes > RANKS_PER_TRANSACTION) {
      full = true
      rest.push(queued)
      continue
    }
    batch.push(queued)
    taken.add(agentId)
    if (batch.length === MAX_BATCH) full = true
  }
  return { batch, rest, full }
}
