import { Clock, Effect, Exit, Fiber } from "effect"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayError } from "../gateway/GatewayError.ts"
import { gatewayCall } from "./programs/gatewayCall.ts"

/**
 * How long a kept config read may answer a quick check, ms, however quiet the gateway was. The
 * gateway tells of every change it commits (`config.changed`, a hand edit of its file ~0.9 s
 * after the write), but it drops events for a slow reader and a hand edit that leaves the file
 * invalid commits nothing: within this bound a sync's batches share a read, and an operator's
 * edit is seen by the next sync whatever became of its event (docs/architecture.md §5.6).
 */
export const CONFIG_READ_MAX_AGE_MS = 5_000

interface KeptRead {
  /** `GatewayClient.configRevision` read before the `config.get` was sent. */
  readonly revision: number
  /** Clock ms when it was sent. */
  readonly at: number
  /** Only what the quick check reads of the file: `{agents: {entries}}` (a fleet's file is MBs, kept per gateway). */
  readonly config: unknown
  /** Removes it once it is too old to answer (a gateway no longer asked about, moved or deleted keeps nothing). */
  readonly expiry: ReturnType<typeof setTimeout>
}

export interface ConfigReads {
  /**
   * The gateway's config file for a quick check (read only, never a patch's base). The kept
   * read answers when, after `answered` (a call on the gateway's socket sent after the check
   * began) has completed, the gateway's `configRevision` is still the one it was read at and the
   * read is younger than the age bound: then no `config.changed` came before that answer, and
   * the gateway's config at that moment is the kept one. Else one `config.get`, kept with the
   * revision read before it was sent (an event arriving meanwhile voids it). `answered` completes
   * with whether that call succeeded (a failed one only makes it read). `fresh` is whether a
   * `config.get` was sent. A kept answer holds only `agents.entries`. Errors: GatewayError (the
   * `config.get`'s).
   */
  readonly current: (target: GatewayTarget, answered: Effect.Effect<boolean>) => Effect.Effect<{ readonly config: unknown; readonly fresh: boolean }, GatewayError>
  /** The gateways with a read kept now (each is removed once void: too old, or its revision moved). */
  readonly keptFor: () => ReadonlyArray<string>
}

/**
 * The `answered` of `ConfigReads.current` for a call forked on the gateway's socket (the quick
 * check's `health` read): whether it succeeded. Awaited, never joined: a failed or interrupted
 * call only makes the check read `config.get`, and never fails nor interrupts the check.
 */
export const answeredBy = <A, E>(call: Fiber.Fiber<A, E> | undefined): Effect.Effect<boolean> =>
  call === undefined ? Effect.succeed(false) : Effect.map(Fiber.await(call), Exit.isSuccess)

/** The part of a config file the quick check reads (`unheldEntries`): `agents.entries`, nothing else. */
const entriesPart = (config: unknown): unknown => {
  const agents = typeof config === "object" && config !== null ? (config as { agents?: unknown }).agents : undefined
  const entries = typeof agents === "object" && agents !== null ? (agents as { entries?: unknown }).entries : undefined
  return { agents: { entries } }
}

/**
 * The last config read per gateway (its `agents.entries` only), kept while the gateway says
 * nothing changed and for at most `maxAgeMs`: a void read is removed when looked up, and every
 * read when its age bound passes (docs/architecture.md §5.6).
 */
export const makeConfigReads = (client: GatewayClient["Type"], maxAgeMs: number = CONFIG_READ_MAX_AGE_MS): ConfigReads => {
  const kept = new Map<string, KeptRead>()
  const drop = (gatewayId: string, read: KeptRead) => {
    if (kept.get(gatewayId) !== read) return
    clearTimeout(read.expiry)
    kept.delete(gatewayId)
  }
  const keep = (gatewayId: string, revision: number, at: number, config: unknown) => {
    const previous = kept.get(gatewayId)
    if (previous !== undefined) drop(gatewayId, previous)
    const read: KeptRead = { revision, at, config: entriesPart(config), expiry: setTimeout(() => drop(gatewayId, read), maxAgeMs) }
    read.expiry.unref()
    kept.set(gatewayId, read)
  }
  const read = (target: GatewayTarget) =>
    Effect.gen(function* () {
      const revision = client.configRevision(target.id)
      const at = yield* Clock.currentTimeMillis
      const answer = yield* gatewayCall(target, "config.get", {})
      const config: unknown = answer.parsed ?? answer.config
      if (revision !== undefined) keep(target.id, revision, at, config)
      return { config, fresh: true }
    }).pipe(Effect.provideService(GatewayClient, client))
  /** The gateway's kept read if it may still answer; a void one is removed. */
  const valid = (gatewayId: string, now: number) => {
    const last = kept.get(gatewayId)
    if (last === undefined) return undefined
    if (last.revision === client.configRevision(gatewayId) && now - last.at < maxAgeMs) return last
    drop(gatewayId, last)
    return undefined
  }
  return {
    current: (target, answered) =>
      Effect.gen(function* () {
        const last = valid(target.id, yield* Clock.currentTimeMillis)
        if (last === undefined) return yield* read(target)
        const ok = yield* answered
        const holds = ok && valid(target.id, yield* Clock.currentTimeMillis) === last
        return holds ? { config: last.config, fresh: false } : yield* read(target)
      }),
    keptFor: () => [...kept.keys()]
  }
}
