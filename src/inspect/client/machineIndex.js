// @ts-check
/**
 * The machine definition as `GET /api/v1/machines/agent` serves it (XState config, functions
 * dropped), indexed by state path, with every transition normalised and its targets resolved.
 * Pure: runs in the browser and in Node (unit tests).
 */

/**
 * @typedef {string | { type: string }} GuardConfig
 * @typedef {{ target?: string | ReadonlyArray<string>, guard?: GuardConfig, actions?: unknown, reenter?: boolean }} TransitionObject
 * @typedef {string | TransitionObject | ReadonlyArray<string | TransitionObject>} TransitionConfig
 * @typedef {{
 *   id?: string, type?: string, initial?: string, tags?: ReadonlyArray<string>,
 *   invoke?: { src?: unknown } | ReadonlyArray<{ src?: unknown }>,
 *   on?: Record<string, TransitionConfig>, always?: TransitionConfig, after?: Record<string, TransitionConfig>,
 *   states?: Record<string, StateConfig>
 * }} StateConfig
 * @typedef {StateConfig & { id: string, version?: string }} MachineDefinition
 *
 * @typedef {{ path: string, key: string, parent: string | null, config: StateConfig, children: Array<string> }} StateEntry
 *   `path` is `""` for the machine itself, otherwise dot-separated (`provisioning.awaiting`).
 * @typedef {{ source: string, event: string, guard: string | null, targets: Array<string>, actions: Array<string> }} Transition
 *   `targets` are state paths; empty for a targetless transition (actions only, or ignored).
 * @typedef {{ definition: MachineDefinition, states: Map<string, StateEntry>, transitions: Array<Transition> }} MachineIndex
 */

/** @param {string} parent @param {string} key */
const join = (parent, key) => (parent === "" ? key : `${parent}.${key}`)

/** @param {unknown} value @returns {Array<string>} */
const names = (value) => {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value]
  return list.flatMap((item) => (typeof item === "string" ? [item] : typeof item?.type === "string" ? [item.type] : []))
}

/**
 * Indexes `definition`: every state by path, every transition (`on`, `always`, `after`) with
 * its targets resolved the way XState v5 does: `#id.rest` by state id, `.child` below the
 * state that declares it, anything else among that state's siblings.
 * @param {MachineDefinition} definition
 * @returns {MachineIndex}
 */
export function machineIndex(definition) {
  /** @type {Map<string, StateEntry>} */
  const states = new Map()
  /** @type {Map<string, string>} state id → path */
  const ids = new Map([[definition.id, ""]])
  /** @param {string} path @param {string} key @param {string | null} parent @param {StateConfig} config */
  const visit = (path, key, parent, config) => {
    const entry = { path, key, parent, config, children: /** @type {Array<string>} */ ([]) }
    states.set(path, entry)
    if (config.id !== undefined && path !== "") ids.set(config.id, path)
    for (const [childKey, child] of Object.entries(config.states ?? {})) {
      entry.children.push(join(path, childKey))
      visit(join(path, childKey), childKey, path, child)
    }
  }
  visit("", definition.id, null, definition)

  /** @param {string} owner @param {string} target @returns {string | undefined} */
  const resolve = (owner, target) => {
    let path
    if (target.startsWith("#")) {
      const [id = "", ...rest] = target.slice(1).split(".")
      const base = ids.get(id)
      path = base === undefined ? undefined : rest.reduce(join, base)
    } else if (target.startsWith(".")) {
      path = join(owner, target.slice(1))
    } else {
      const parent = states.get(owner)?.parent
      path = parent === null || parent === undefined ? undefined : join(parent, target)
    }
    return path !== undefined && states.has(path) ? path : undefined
  }

  /** @type {Array<Transition>} */
  const transitions = []
  /** @param {string} source @param {string} event @param {TransitionConfig | undefined} config */
  const add = (source, event, config) => {
    const list = Array.isArray(config) ? config : config === undefined ? [] : [config]
    for (const item of list) {
      const object = /** @type {TransitionObject} */ (typeof item === "string" ? { target: item } : item)
      const targets = (Array.isArray(object.target) ? object.target : object.target === undefined ? [] : [object.target])
        .map((target) => resolve(source, target))
        .filter((path) => path !== undefined)
      const guard = names(object.guard)[0] ?? null
      transitions.push({ source, event, guard, targets, actions: names(object.actions) })
    }
  }
  for (const { path, config } of states.values()) {
    for (const [event, config_] of Object.entries(config.on ?? {})) add(path, event, config_)
    if (config.always !== undefined) add(path, "always", config.always)
    for (const [delay, config_] of Object.entries(config.after ?? {})) add(path, `after ${delay}`, config_)
  }
  return { definition, states, transitions }
}

/**
 * The states active for a state path, innermost first, the machine (`""`) last:
 * `provisioning.awaiting` → `["provisioning.awaiting", "provisioning", ""]`. Unknown paths give `[]`.
 * @param {MachineIndex} index
 * @param {string} statePath
 * @returns {Array<string>}
 */
export function activeStates(index, statePath) {
  if (!index.states.has(statePath)) return []
  /** @type {Array<string>} */
  const chain = []
  /** @type {string | null | undefined} */
  let path = statePath
  while (path !== null && path !== undefined) {
    chain.push(path)
    path = index.states.get(path)?.parent
  }
  return chain
}

/**
 * How the machine answers `event` in `statePath`: the transitions of the innermost active state
 * that declares it (XState's order), or `[]` when no active state does or the state is final.
 * A declared `{}` (the event is swallowed) gives one transition with no targets and no actions.
 * @param {MachineIndex} index
 * @param {string} statePath
 * @param {string} event
 * @returns {Array<Transition>}
 */
export function handlersOf(index, statePath, event) {
  if (index.states.get(statePath)?.config.type === "final") return []
  for (const path of activeStates(index, statePath)) {
    const found = index.transitions.filter((transition) => transition.source === path && transition.event === event)
    if (found.length > 0) return found
  }
  return []
}

/**
 * Every transition that can fire in `statePath`: for each event some active state declares,
 * the innermost declaration's transitions (so a state's `{}` hides the machine-wide handler).
 * @param {MachineIndex} index
 * @param {string} statePath
 * @returns {Set<Transition>}
 */
export function possibleTransitions(index, statePath) {
  const active = new Set(activeStates(index, statePath))
  const events = new Set(index.transitions.filter((transition) => active.has(transition.source)).map((transition) => transition.event))
  return new Set([...events].flatMap((event) => handlersOf(index, statePath, event)))
}
