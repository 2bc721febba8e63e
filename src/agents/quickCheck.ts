import { Deferred, Effect, Fiber, type Scope } from "effect"
import { GatewayClient, type GatewayTarget } from "../gateway/GatewayClient.ts"
import type { GatewayError } from "../gateway/GatewayError.ts"
import { takeOpen, type Batch, type BatchRequest, type Heartbeats } from "./BatchRequest.ts"
import { answeredBy, type ConfigReads } from "./configReads.ts"
import { unheldEntries } from "./writeConfigBatch.ts"

/** What a gateway's quick check works with; the batcher owns each of them (`AgentConfigBatcher`). */
export interface QuickCheckDeps {
  readonly client: GatewayClient["Type"]
  /** Where the read-back is forked: it outlives the check, its requests join it. */
  readonly scope: Scope.Scope
  readonly configReads: ConfigReads
  /** The quick batches, by gateway id. */
  readonly quickBatches: Map<string, Batch>
  /** The shared `health {probe:true}` read (`AgentConfigBatcher.effectiveHeartbeats`). */
  readonly readHealth: (target: GatewayTarget) => Effect.Effect<Heartbeats, GatewayError>
  /** The agents with a request in the gateway's full batch, waiting or being written: never answered from the read. */
  readonly outstanding: (gatewayId: string) => ReadonlySet<string>
  /** Puts a request in the gateway's full batch (run uninterruptibly). */
  readonly passOn: (target: GatewayTarget, request: BatchRequest) => Effect.Effect<void>
}

/**
 * A quick batch: nothing written; the read-back (`health {probe:true}`) is sent first, then
 * the config is read (`configReads`: the gateway's last read, kept while no `config.changed`
 * came before the read-back's answer, else one `config.get`), all under the config lock: a
 * patch still in flight would otherwise make an entry look held while the read predates it.
 * The requests whose entry holds are answered with that read-back; the others (differing,
 * or not in the file) join the gateway's full batch, which patches them, as does a request
 * whose agent has an earlier one there still to write (it would overwrite what the read saw).
 * A request withdrawn meanwhile is neither answered nor passed on; with none left, nothing is
 * sent (docs/architecture.md §5.6). Never fails: each request gets the outcome.
 */
export const makeQuickCheck =
  ({ client, scope, configReads, quickBatches, readHealth, outstanding, passOn }: QuickCheckDeps) =>
  (gatewayId: string): Effect.Effect<void> =>
    Effect.suspend(() => {
      const batch = quickBatches.get(gatewayId)
      if (batch === undefined) return Effect.void
      const requests = takeOpen(batch)
      if (requests.length === 0) return Effect.void
      const wanted = new Map(requests.map((request) => [request.gatewayAgentId, request.entry]))
      return Effect.gen(function* () {
        let readBack: Fiber.Fiber<Heartbeats, GatewayError> | undefined
        const startReadBack = Effect.map(Effect.forkIn(readHealth(batch.target), scope), (fiber) => void (readBack = fiber))
        const unheld = Effect.suspend(() => configReads.current(batch.target, answeredBy(readBack)))
        const outcome = yield* Effect.either(
          client.withConfigLock(
            gatewayId,
            // Under the lock: a full batch's write is either in the file read or still outstanding.
            Effect.zipRight(startReadBack, Effect.map(unheld, ({ config }) => ({ ...unheldEntries(config, wanted), outstanding: outstanding(gatewayId) })))
          )
        )
        for (const request of requests) {
          const agentId = request.gatewayAgentId
          if (request.withdrawn) continue
          if (outcome._tag === "Left") yield* Deferred.fail(request.done, outcome.left)
          else if (outcome.right.missing.has(agentId)) yield* Effect.uninterruptible(passOn(batch.target, request))
          else if (outcome.right.differing.has(agentId) || outcome.right.outstanding.has(agentId)) {
            request.prompt = true
            yield* Effect.uninterruptible(passOn(batch.target, request))
          } else yield* Deferred.succeed(request.done, { changed: false, early: readBack })
        }
      }).pipe(
        Effect.onExit((exit) =>
          exit._tag === "Failure" ? Effect.forEach(requests, (request) => Deferred.failCause(request.done, exit.cause), { discard: true }) : Effect.void
        )
      )
    }).pipe(Effect.provideService(GatewayClient, client))
