import { fromCallback } from "xstate"
import type { AgentEvent, DeadlineInput } from "../../machines/agent/agentTypes.ts"

interface Entry {
  readonly at: number
  /** Insertion order: equal instants fire in the order they were added. */
  readonly seq: number
  readonly fire: () => void
  /** Position in the heap; -1 once due or cancelled. */
  index: number
  cancelled: boolean
}

/** What the queue needs from a clock: the time (epoch ms) and one-shot timers. */
export interface DeadlineClock {
  readonly now: () => number
  readonly setTimer: (run: () => void, delayMs: number) => unknown
  readonly clearTimer: (timer: unknown) => void
}

const systemClock: DeadlineClock = {
  now: Date.now,
  setTimer: (run, delayMs) => setTimeout(run, delayMs).unref(),
  clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>)
}

/** setTimeout holds at most ~24.8 days; a later deadline is re-armed when that much has passed. */
const MAX_DELAY_MS = 2 ** 31 - 1

/**
 * Many absolute deadlines (epoch ms) behind one timer: a binary min-heap ordered by instant,
 * with a single timer armed for the earliest. `add` and a cancel are O(log n); a fleet of
 * 100,000 waiting agents holds one timer, not 100,000. A deadline already past fires on the
 * next timer turn, never inside `add`.
 */
export class DeadlineQueue {
  private readonly heap: Array<Entry> = []
  private seq = 0
  private timer: unknown = undefined
  /** The instant the armed timer was set for. */
  private armedFor = Number.POSITIVE_INFINITY

  private readonly clock: DeadlineClock

  constructor(clock: DeadlineClock = systemClock) {
    this.clock = clock
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.heap.length
  }

  /** Runs `fire` once at epoch ms `at` (at once, asynchronously, if it has passed); the answer cancels it. */
  add(at: number, fire: () => void): () => void {
    const entry: Entry = { at, seq: this.seq++, fire, index: this.heap.length, cancelled: false }
    this.heap.push(entry)
    this.up(entry.index)
    this.arm()
    return () => {
      entry.cancelled = true
      if (entry.index >= 0) this.remove(entry.index)
    }
  }

  private readonly due = () => {
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
    const now = this.clock.now()
    const fired: Array<Entry> = []
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.remove(0)
      fired.push(top)
    }
    this.arm()
    // A deadline may cancel another that fell due at the same turn (its actor stopped).
    for (const entry of fired) if (!entry.cancelled) entry.fire()
  }

  /**
   * Keeps the one timer aimed at or before the earliest deadline. A timer armed earlier stays:
   * it finds nothing due and re-arms, which costs less than re-arming on every cancel.
   */
  private arm(): void {
    const first = this.heap[0]
    if (first === undefined) return
    if (this.timer !== undefined && this.armedFor <= first.at) return
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    const now = this.clock.now()
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, first.at - now))
    this.armedFor = now + delay
    this.timer = this.clock.setTimer(this.due, delay)
  }

  private remove(index: number): void {
    const removed = this.heap[index]!
    const last = this.heap.pop()!
    removed.index = -1
    if (last === removed) return
    this.heap[index] = last
    last.index = index
    this.down(index)
    this.up(last.index)
  }

  private before(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!
    const b = this.heap[j]!
    this.heap[i] = b
    this.heap[j] = a
    a.index = j
    b.index = i
  }

  private up(index: number): void {
    let i = index
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(this.heap[i]!, this.heap[parent]!)) return
      this.swap(i, parent)
      i = parent
    }
  }

  private down(index: number): void {
    let i = index
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < this.heap.length && this.before(this.heap[left]!, this.heap[smallest]!)) smallest = left
      if (right < this.heap.length && this.before(this.heap[right]!, this.heap[smallest]!)) smallest = right
      if (smallest === i) return
      this.swap(i, smallest)
      i = smallest
    }
  }
}

/**
 * The machine's `deadline` waiter on a shared queue: sends `deadline.reached` (stamped with the
 * queue's clock) at the absolute instant in its input. Leaving the state stops the invoke and
 * cancels the deadline; a restored actor re-invokes it, so it fires on time, or at once if the
 * instant passed while the service was down.
 */
export const queuedDeadline = (queue: DeadlineQueue, now: () => number = Date.now) =>
  fromCallback<AgentEvent, DeadlineInput>(({ input, sendBack }) => queue.add(input.at, () => sendBack({ type: "deadline.reached", at: now() })))
