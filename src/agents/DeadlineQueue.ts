/** One deadline in a queue: its instant (epoch ms) and whether it is still waiting. */
export interface DeadlineTicket<T> {
  readonly at: number
  /** Insertion order: equal instants fire in the order they were added. */
  readonly seq: number
  readonly owner: T
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

const call = (fire: unknown) => (fire as () => void)()

/**
 * Many absolute deadlines (epoch ms) behind one timer: a binary min-heap ordered by instant,
 * with a single timer armed for the earliest. `schedule`, `add` and a cancel are O(log n); a
 * fleet of 100,000 waiting agents holds one timer, not 100,000. A deadline already past fires
 * on the next timer turn, never inside `schedule`. A due deadline is handed to `onDue` with its
 * owner (`schedule`), so a fleet needs no closure per deadline; `add` takes a function instead.
 */
export class DeadlineQueue<T = () => void> {
  private readonly heap: Array<DeadlineTicket<T>> = []
  private seq = 0
  private timer: unknown = undefined
  /** The instant the armed timer was set for. */
  private armedFor = Number.POSITIVE_INFINITY

  private readonly clock: DeadlineClock
  private readonly onDue: (owner: T) => void

  constructor(clock: DeadlineClock = systemClock, onDue: (owner: T) => void = call) {
    this.clock = clock
    this.onDue = onDue
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.heap.length
  }

  /** The queue's clock (epoch ms): what a due deadline is stamped with. */
  now(): number {
    return this.clock.now()
  }

  /** Hands `owner` to `onDue` once at epoch ms `at` (at once, asynchronously, if it has passed). */
  schedule(at: number, owner: T): DeadlineTicket<T> {
    const entry: DeadlineTicket<T> = { at, seq: this.seq++, owner, index: this.heap.length, cancelled: false }
    this.heap.push(entry)
    this.up(entry.index)
    this.arm()
    return entry
  }

  /** Cancels a scheduled deadline (nothing if it fired already). */
  cancel(ticket: DeadlineTicket<T>): void {
    ticket.cancelled = true
    if (ticket.index >= 0) this.remove(ticket.index)
  }

  /** Whether a ticket is still waiting (neither due nor cancelled). */
  static pending(ticket: DeadlineTicket<unknown>): boolean {
    return ticket.index >= 0
  }

  /** Runs `fire` once at epoch ms `at` (at once, asynchronously, if it has passed); the answer cancels it. */
  add(this: DeadlineQueue, at: number, fire: () => void): () => void {
    const ticket = this.schedule(at, fire)
    return () => this.cancel(ticket)
  }

  private readonly due = () => {
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
    const now = this.clock.now()
    const fired: Array<DeadlineTicket<T>> = []
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.remove(0)
      fired.push(top)
    }
    this.arm()
    // A deadline may cancel another that fell due at the same turn (its actor stopped).
    for (const entry of fired) if (!entry.cancelled) this.onDue(entry.owner)
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

  private before(a: DeadlineTicket<T>, b: DeadlineTicket<T>): boolean {
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

