import { isDeepStrictEqual } from "node:util"
import { Either } from "effect"
import type { AgentPolicy } from "../../machines/agent/agentTypes.ts"
import { AGENT_MACHINE_VERSION } from "../../machines/agent/agentMachine.ts"
import type { StoredSnapshot } from "../store/AgentRepo.ts"
import { MachineVersionUnknown, SnapshotInvalid } from "./AgentSystemErrors.ts"
import { PersistedAgentSnapshot } from "./PersistedAgentSnapshot.ts"

/** A stored snapshot that passed the checks: the row's own value, with its context's members. */
export type RestorableSnapshot = PersistedAgentSnapshot & { readonly context: Readonly<Record<string, unknown>> }

/**
 * The snapshot a stored row restores from: its machine version must be this build's (an
 * unknown one is a loud error, never a guess) and its shape must decode; children of retired
 * logic (the old `deadline` waiter) are removed from it. An Either (so also an
 * Effect): a restore checks every row it starts, synchronously.
 * Errors: MachineVersionUnknown, SnapshotInvalid.
 */
export const restorableSnapshot = (row: StoredSnapshot): Either.Either<RestorableSnapshot, MachineVersionUnknown | SnapshotInvalid> => {
  if (row.machineVersion !== AGENT_MACHINE_VERSION) {
    return Either.left(new MachineVersionUnknown({ agentId: row.id, version: row.machineVersion }))
  }
  const decoded = PersistedAgentSnapshot.safeParse(row.snapshot)
  if (!decoded.success) {
    return Either.left(new SnapshotInvalid({ agentId: row.id, reason: decoded.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ") }))
  }
  dropRetiredChildren(row.snapshot as { children?: unknown })
  // The row's own value, checked: zod's output holds only the checked members (and a copy
  // built key by key would sit in V8's slow dictionary mode, ~800 bytes more per agent).
  return Either.right(row.snapshot as RestorableSnapshot)
}

/** `src` of invoked children that earlier builds persisted and this one no longer has: the `deadline` waiter (docs/architecture.md §3.3). */
const RETIRED_CHILDREN: ReadonlySet<unknown> = new Set(["deadline"])

/**
 * Removes retired children from a stored snapshot (the row's own parsed value). XState would
 * skip them anyway; removed, the restored actor's snapshot equals the stored one, so an upgrade
 * does not write every agent again (docs/architecture.md §6.6).
 */
const dropRetiredChildren = (snapshot: { children?: unknown }): void => {
  const children = snapshot.children
  if (children === null || typeof children !== "object") return
  for (const [id, child] of Object.entries(children as Record<string, unknown>)) {
    if (child !== null && typeof child === "object" && RETIRED_CHILDREN.has((child as { src?: unknown }).src)) delete (children as Record<string, unknown>)[id]
  }
}

/** Whether a restored actor's time limits differ from the service's (then it is sent `system.policy`). */
export const policyChanged = (stored: Readonly<Record<string, unknown>>, current: AgentPolicy): boolean => {
  if ((stored as unknown) === current) return false
  // A loop, not `Object.keys(…).some`: a restore checks every agent it starts, with no array each.
  for (const key in current) if (stored[key] !== current[key as keyof AgentPolicy]) return true
  return false
}

/** One copy per distinct board id and per distinct spec heartbeat (`{ every, target }`), shared by the restored contexts of a page. */
export interface RestoreShares {
  readonly boards: Map<string, string>
  /** By `every`, then by `target`. */
  readonly heartbeats: Map<string, Map<string, { every: string; target: string }>>
}

/** Empty `RestoreShares`, for one page of a restore. */
export const restoreShares = (): RestoreShares => ({ boards: new Map(), heartbeats: new Map() })

/**
 * Points a restored context's members at equal values the runner already holds, so a fleet
 * keeps one copy instead of one per agent: the row's id, the hosted gateway's id, one copy per
 * distinct board id and spec heartbeat (`seen`, kept by the caller across rows) and the
 * service's policy when the stored one equals it (`policyChanged` false, same members). Only
 * equal values are replaced, so the persisted snapshot is unchanged. Mutates `context`, the
 * row's own parsed value (restorableSnapshot), before an actor is created from it. Allocates
 * nothing for a value already seen (a restore runs it for every agent).
 */
export const shareRestoredValues = (
  context: Record<string, unknown>,
  shared: { readonly agentId: string; readonly gatewayId: string; readonly policy: AgentPolicy; readonly seen: RestoreShares }
): void => {
  if (context["agentId"] === shared.agentId) context["agentId"] = shared.agentId
  if (context["gatewayId"] === shared.gatewayId) context["gatewayId"] = shared.gatewayId
  const board = context["boardId"]
  if (typeof board === "string") context["boardId"] = once(shared.seen.boards, board, board)
  const spec = context["spec"]
  if (spec !== null && typeof spec === "object") {
    const heartbeat = (spec as Record<string, unknown>)["heartbeat"]
    if (isHeartbeat(heartbeat)) {
      let targets = shared.seen.heartbeats.get(heartbeat.every)
      if (targets === undefined) shared.seen.heartbeats.set(heartbeat.every, (targets = new Map()))
      ;(spec as Record<string, unknown>)["heartbeat"] = once(targets, heartbeat.target, heartbeat)
    }
  }
  const stored = context["policy"]
  if (stored !== null && typeof stored === "object" && sameMembers(stored as Record<string, unknown>, shared.policy)) context["policy"] = shared.policy
}

/** Whether `stored` has exactly `current`'s members, each equal (`===`). */
const sameMembers = (stored: Readonly<Record<string, unknown>>, current: AgentPolicy): boolean => {
  let members = 0
  for (const key in stored) {
    if (!Object.hasOwn(current, key) || stored[key] !== current[key as keyof AgentPolicy]) return false
    members += 1
  }
  let expected = 0
  for (const _ in current) expected += 1
  return members === expected
}

/** The value first seen under `key`, else `value` (then remembered). */
const once = <A>(seen: Map<string, A>, key: string, value: A): A => {
  const known = seen.get(key)
  if (known !== undefined) return known
  seen.set(key, value)
  return value
}

/** A `{ every, target }` of strings and nothing else (the spec's heartbeat as stored). */
const isHeartbeat = (value: unknown): value is { every: string; target: string } => {
  if (value === null || typeof value !== "object") return false
  let members = 0
  for (const _ in value) members += 1
  const { every, target } = value as Record<string, unknown>
  return members === 2 && typeof every === "string" && typeof target === "string"
}

/** `value` as it reads back from jsonb: what JSON keeps (no `undefined`, no functions). */
const asJson = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)))

/** Neither equal nor different as far as `jsonEqual` can tell without JSON's own rules (a Date, `toJSON`, a non-finite number…). */
const UNSURE = 2

/** A value JSON writes as a member of an object: not `undefined`, not a function, not a symbol. */
const kept = (value: unknown): boolean => value !== undefined && typeof value !== "function" && typeof value !== "symbol"

/**
 * Whether `value` (plain data) and `stored` (read back from jsonb) are the same JSON, without
 * writing either out: 1 equal, 0 different, UNSURE when `value` holds anything whose JSON form
 * needs JSON's own rules. A member that is `stored`'s own object is equal without a walk.
 */
const jsonEqual = (value: unknown, stored: unknown): 0 | 1 | typeof UNSURE => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value === stored ? 1 : 0
  if (typeof value === "number") return Number.isFinite(value) ? (value === stored ? 1 : 0) : UNSURE
  if (typeof value !== "object") return UNSURE
  // The stored value itself (a restored actor's context is the row's parsed one, and XState
  // persists it as is when it holds no actor): JSON read back from jsonb, so equal to itself.
  if (value === stored) return 1
  if (Array.isArray(value)) {
    if (!Array.isArray(stored) || stored.length !== value.length) return 0
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (!kept(item)) return UNSURE
      const same = jsonEqual(item, stored[i])
      if (same !== 1) return same
    }
    return 1
  }
  const prototype: unknown = Object.getPrototypeOf(value)
  if ((prototype !== Object.prototype && prototype !== null) || "toJSON" in value) return UNSURE
  if (stored === null || typeof stored !== "object" || Array.isArray(stored)) return 0
  let members = 0
  for (const key in value) {
    const member: unknown = (value as Record<string, unknown>)[key]
    if (!kept(member)) {
      if (typeof member === "symbol") return UNSURE
      continue
    }
    if (!Object.hasOwn(stored, key)) return 0
    members += 1
    const same = jsonEqual(member, (stored as Record<string, unknown>)[key])
    if (same !== 1) return same
  }
  return Object.keys(stored).length === members ? 1 : 0
}

/**
 * Whether a restored actor's persisted snapshot is the one it was restored from, as stored
 * (jsonb: key order and `undefined` members do not count). Then restore needs no new version.
 * Compared member by member, with no copy: a restore compares every agent it starts; a member
 * that is the stored object itself (the restored context, unless it held actors) is not walked;
 * a value whose JSON form needs JSON's own rules is compared through JSON.
 */
export const sameSnapshot = (persisted: unknown, stored: unknown): boolean => {
  const same = persisted === undefined ? UNSURE : jsonEqual(persisted, stored)
  return same === UNSURE ? isDeepStrictEqual(asJson(persisted), stored) : same === 1
}
