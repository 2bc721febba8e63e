import { Clock, Effect } from "effect"
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
  /** The file as `config.get` answered it (`parsed`, else `config`). */
  readonly config: unknown
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
   * `config.get` was sent. Errors: GatewayError (the `config.get`'s).
   */
  readonly current: (target: GatewayTarget, answered: Effect.Effect<boolean>) => Effect.Effect<{ readonly config: unknown; readonly fresh: boolean }, GatewayError>
}

/** The last config read per gateway, kept while the gateway says nothing changed (docs/architecture.md §5.6). */
export const makeConfigReads = (client: GatewayClient["Type"], maxAgeMs: number = CONFIG_READ_MAX_AGE_MS): ConfigReads => {
  const kept = new Map<string, KeptRead>()
  const read = (target: GatewayTarget) =>
    Effect.gen(function* () {
      const revision = client.configRevision(target.id)
      const at = yield* Clock.currentTimeMillis
      const answer = yield* gatewayCall(target, "config.get", {})
      const config: unknown = answer.parsed ?? answer.config
      if (revision !== undefined) kept.set(target.id, { revision, at, config })
      return { config, fresh: true }
    }).pipe(Effect.provideService(GatewayClient, client))
  return {
    current: (target, answered) =>
      Effect.gen(function* () {
        const last = kept.get(target.id)
        if (last === undefined || last.revision !== client.configRevision(target.id)) return yield* read(target)
        const ok = yield* answered
        const now = yield* Clock.currentTimeMillis
        const holds = ok && now - last.at < maxAgeMs && kept.get(target.id) === last && client.configRevision(target.id) === last.revision
        return holds ? { config: last.config, fresh: false } : yield* read(target)
      })
  }
}
