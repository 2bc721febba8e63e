import { Data } from "effect"

/**
 * Trims what a started agent actor keeps only for construction and start, or for features
 * Switchyard does not use, so an idle actor of a large fleet holds less (docs/architecture.md §6.6):
 *
 * - its options: after `start`, XState reads only `devTools` from them (`attachDevTools`; the
 *   `id` and `parent` it copied into the actor when it was made), so an actor with the default
 *   clock, logger and no dev tools shares one frozen options object and lets go of the snapshot
 *   it was restored from (a copy of the stored row's, with its children and history) and its
 *   input (a restored actor's is its first context, which would outlive every later context);
 * - its emitted-event listeners (`actor.on`): agent machines emit nothing and nothing listens,
 *   so every agent shares one empty map (an empty `Map` is ~180 bytes with its table) that
 *   refuses a listener loudly (`AgentListenersUnsupported`) rather than share it;
 * - its observers (`actor.subscribe`): snapshots reach the runner through the actor system's
 *   inspection, so an agent nobody waits for shares one empty set (~190 bytes with its table)
 *   that refuses an observer (`AgentObserversUnsupported`); `observing` gives an actor a set
 *   of its own for a wait (XState's `waitFor` subscribes) and shares the empty one again after;
 * - its `send`, which XState binds to the actor (a bound function each, so a destructured `send`
 *   works): Switchyard always calls `actor.send(...)`, so the actor's own member becomes the
 *   class's shared method (a detached call fails loudly, `this` being undefined).
 */
export const slimStartedActor = (actor: { readonly options: object; readonly eventListeners: unknown; readonly observers: unknown; readonly send: unknown }): void => {
  const mutable = actor as { options: Record<string, unknown>; eventListeners: unknown; observers: unknown; send: unknown }
  const options = mutable.options
  shared ??= Object.freeze({ clock: options["clock"], logger: options["logger"], devTools: options["devTools"] })
  if (options["clock"] === shared.clock && options["logger"] === shared.logger && options["devTools"] === shared.devTools && onlyDefaults(options)) {
    mutable.options = shared
  } else {
    // Overwritten in place: a copy or a `delete` would cost more than the two fields.
    if (options["snapshot"] !== undefined) options["snapshot"] = undefined
    if (options["input"] !== undefined) options["input"] = undefined
  }
  mutable.eventListeners = noListeners
  mutable.observers = noObservers
  // Assigned, not deleted: a delete would turn the actor into a slower dictionary-mode object.
  mutable.send = (Object.getPrototypeOf(actor) as { readonly send: unknown }).send
}

/**
 * Runs `wait` (which may `subscribe` to the actor, as XState's `waitFor` does) with an observer
 * set of the actor's own, and shares the empty one again once no observer is left (an actor
 * `slimStartedActor` did not trim keeps its own set).
 */
export const observing = async <A>(actor: object, wait: () => Promise<A>): Promise<A> => {
  // XState's `observers` member is private in its types.
  const mutable = actor as { observers: ReadonlySet<unknown> }
  if (mutable.observers === noObservers) {
    const own = new Set<unknown>()
    lent.add(own)
    mutable.observers = own
  }
  try {
    return await wait()
  } finally {
    // A stopped actor cleared its set; a wait that still runs keeps it; a set this did not lend stays.
    if (mutable.observers.size === 0 && lent.has(mutable.observers)) mutable.observers = noObservers
  }
}

/** The observer sets `observing` lent to actors: only these are given back for the shared one. */
const lent = new WeakSet<object>()

/** The error `actor.on` meets on an agent actor: agent machines emit no events (docs/architecture.md §6.6). */
export class AgentListenersUnsupported extends Data.TaggedError("AgentListenersUnsupported")<{ readonly eventType: string }> {
  override get message(): string {
    return `agent actors share one empty emitted-event listener map: actor.on("${this.eventType}") is not supported`
  }
}

/** The error `actor.subscribe` meets on an agent actor outside `observing` (docs/architecture.md §6.6). */
export class AgentObserversUnsupported extends Data.TaggedError("AgentObserversUnsupported")<{}> {
  override get message(): string {
    return "agent actors share one empty observer set: subscribe inside observing(actor, ...)"
  }
}

/** An empty set that stays empty: reading and clearing work, adding throws. */
class NoObservers extends Set<never> {
  override add(): this {
    throw new AgentObserversUnsupported()
  }
}

const noObservers = new NoObservers()

/** An empty map that stays empty: reading and clearing work, adding throws. */
class NoListeners extends Map<string, never> {
  override set(eventType: string): this {
    throw new AgentListenersUnsupported({ eventType })
  }
}

const noListeners = new NoListeners()

let shared: { readonly clock: unknown; readonly logger: unknown; readonly devTools: unknown } | undefined

/** Options XState reads only while it makes or starts an actor. */
const startOnly = new Set(["clock", "logger", "devTools", "snapshot", "input", "id", "parent"])

/** Whether the options carry nothing but the defaults and what XState reads only to make and start the actor. */
const onlyDefaults = (options: Record<string, unknown>): boolean => {
  for (const key in options) if (!startOnly.has(key)) return false
  return true
}
