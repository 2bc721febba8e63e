import { Cause, Clock, Deferred, Effect, Schedule, Scope, Stream } from "effect"
import { CONNECTION_EVENT, type GatewayEvent } from "../gateway/GatewayClient.ts"
import { isRetargeted } from "../gateway/GatewayError.ts"
import { HealthResult } from "../gateway/protocol.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { heartbeatRuns, heartbeatTurnsPerAgentHour } from "../observability/metrics.ts"
import { HeartbeatBudget } from "./HeartbeatBudget.ts"
import { PresenceMarks } from "./PresenceMarks.ts"
import { reconcileAgents } from "./reconcileAgents.ts"
import { RunTracker, signalsFromEvent } from "./signalsFromEvent.ts"
import { makeWatcherContext } from "./watcherContext.ts"
import { watcherFeatures } from "./watcherFeatures.ts"
import { makeWatcherHealth } from "./watcherHealth.ts"
import { makeWatcherReachability } from "./watcherReachability.ts"
import { makeWatcherRoster } from "./watcherRoster.ts"

/** Session changes this close (ms) to the agent's last recorded activity are not sent. */
const SESSION_COALESCE_MS = 5_000
/** How long after a `config.changed` the watcher reconciles `agents.list`. */
const CONFIG_SETTLE_MS = 1_000
/**
 * A reconciliation caused by a `config.changed` starts at least this many times its last round's
 * duration after that round ended: its reads are fleet-sized, and a burst of config writes (ours
 * included) must not make them back to back.
 */
const CONFIG_ROUND_SPACING = 10
/** Restart of a watcher whose start failed: 1 s, doubling, at most 30 s apart, for as long as its gateway is hosted. */
const watcherRestart = Schedule.exponential("1 second").pipe(Schedule.either(Schedule.spaced("30 seconds")))

/**
 * The liveness watcher of one gateway (docs/operations.md §8), for as long as its scope lives:
 * on the socket the service already holds it subscribes to what the gateway offers (per
 * `hello-ok.features`: `sessions.subscribe`; `agent`, `sessions.changed`, `heartbeat`
 * events) and maps each signal to an event of the agent's actor; it probes reachability every
 * `livenessProbeMs` with a one-row `sessions.list` (ms), and reads the effective heartbeats
 * (`health {probe: true}`, fleet-sized) and compares `agents.list` with our agents on every
 * (re)connect, every `reconcileMs`, and a second after a `config.changed` (an agent created,
 * updated or deleted, ours or not). A pushed `health` is read only from a gateway that lacks the
 * `health` method (docs/operations.md §8: the periodic read says the same, later). A lacking method
 * or event degrades that signal and says so; nothing here fails: errors are logged and the next
 * round tries again. The gateway's target (url, token) is read again on every (re)connect, lost
 * socket and retarget (`GatewayClient.forget`, CONNECTION_EVENT `retargeted`), and is pinned, so a
 * PATCH whose watcher restart was missed makes the watcher dial the new target, never the old
 * one, without marking the gateway lost; a read
 * that finds the row gone ends the watcher (its gateway entity then lets the gateway go,
 * docs/architecture.md §11).
 * One function per gateway, so a cluster can host it where the gateway lives; its parts are
 * `watcherRoster`, `watcherHealth`, `watcherReachability` and `watcherFeatures`.
 */
export const watchGateway = (gatewayId: string) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const scope = yield* Effect.scope
    const context = yield* makeWatcherContext(gatewayId)
    const { client, registry, roster, labels } = context
    const rosterReads = makeWatcherRoster(context)
    const health = makeWatcherHealth(context)
    const reach = makeWatcherReachability(context, health.apply)
    const runs = new RunTracker()
    const present = new PresenceMarks()
    const budget = new HeartbeatBudget(yield* Clock.currentTimeMillis)
    let reconcileSoon = false
    /** The last reconciliation's end (epoch ms) and duration (ms). */
    let lastRound = { endedAt: 0, ms: 0 }
    const rounds = yield* Effect.makeSemaphore(1)

    /** One round; false when the gateway is unreachable and the round was not made. */
    const reconcile = Effect.scoped(Effect.gen(function* () {
      if (!reach.isReachable()) return false
      const startedAt = yield* Clock.currentTimeMillis
      yield* Effect.addFinalizer(() => Effect.map(Clock.currentTimeMillis, (endedAt) => void (lastRound = { endedAt, ms: endedAt - startedAt })))
      yield* rosterReads.refresh("reconcile")
      yield* health.read
      yield* reconcileAgents({ gatewayId, target: context.target, roster: roster.roster, send: context.send, registry, present })
      const perAgentHour = budget.perAgentHour(yield* Clock.currentTimeMillis, roster.roster.size)
      if (perAgentHour !== null) heartbeatTurnsPerAgentHour.set(labels, perAgentHour)
      yield* registry.update(gatewayId, { heartbeatTurnsPerAgentHour: perAgentHour })
      return true
    }))

    /**
     * When (`performance.now()` ms, the clock of a ready event's `monotonicAt`: it never steps
     * back) the last `onReady` that made its round had its socket ready: a socket announced ready
     * at or before it is that one or an older one since replaced, already handled.
     */
    let handledAt = Number.NEGATIVE_INFINITY

    /**
     * After every (re)connect: read the target again, the features, subscribe to what is offered,
     * probe, reconcile. `announcedAt`: when the socket this round is for was announced ready
     * (a ready event's `monotonicAt`); a round already made on that socket or a later one is not
     * made again (the watcher's own first connect announces its socket too). A round not made
     * (the gateway was marked lost meanwhile, e.g. a probe found it unreachable, or the target was
     * retargeted under the round) handles nothing, so the socket's own announcement still gets its
     * round. A round failing as `retargeted` reads the target again and marks nothing lost.
     */
    const onReady = (announcedAt: number | undefined) => Effect.gen(function* () {
      if (announcedAt !== undefined && announcedAt <= handledAt) return
      yield* context.refreshTarget
      if (yield* Deferred.isDone(context.gone)) return
      const socketTarget = context.target
      const hello = yield* client.connect(socketTarget)
      const connectedAt = performance.now()
      const { offers, degraded } = watcherFeatures(hello)
      if (hello.methods.includes("sessions.subscribe")) {
        yield* client.call(socketTarget, "sessions.subscribe", {}, context.probeOptions).pipe(
          Effect.catchAll((error) => Effect.sync(() => degraded.push(`sessions.subscribe (method): failed (${error.message}); session changes are not watched`)))
        )
      }
      context.offers = offers
      if (degraded.length > 0) yield* Effect.logWarning(`liveness ${gatewayId}: degraded signals: ${degraded.join("; ")}`)
      yield* registry.update(gatewayId, { serverVersion: hello.serverVersion, degraded })
      yield* reach.probe
      if (yield* reconcile) handledAt = Math.max(handledAt, connectedAt)
    }).pipe(
      Effect.catchAll((error) => (isRetargeted(error) ? context.refreshTarget : reach.markLost(error.message))),
      rounds.withPermits(1)
    )

    const onEvent = (event: GatewayEvent) =>
      Effect.gen(function* () {
        if (event.event === CONNECTION_EVENT) {
          const status = (event.payload as { status?: string } | undefined)?.status
          if (status === "closed") return yield* Effect.zipRight(context.refreshTarget, reach.markLost("socket closed"))
          // Retargeted (`forget`: a PATCHed url or token): no loss; a round reads the target again
          // and reconnects and subscribes to it at once, not at the next probe.
          if (status === "retargeted") return yield* Effect.forkIn(onReady(undefined), scope)
          if (status === "ready") yield* Effect.forkIn(onReady((event.payload as { monotonicAt?: number } | undefined)?.monotonicAt), scope)
          return
        }
        // Pushed samples are cached ones (docs/gateway-protocol.md §10), as large as the fleet: where
        // `health` can be called, the reads on connect, config change and reconciliation say the same.
        if (event.event === "health") {
          if (context.offers.health) return
          const sample = HealthResult.safeParse(event.payload)
          return sample.success ? yield* health.apply(sample.data) : undefined
        }
        // A config write (an agent created or deleted, by us or behind our back): reconcile soon,
        // once `agents.list` has caught up (it lags a delete by ~0.5 s; docs/gateway-protocol.md §9).
        if (event.event === "config.changed") {
          if (reconcileSoon) return
          reconcileSoon = true
          yield* Effect.forkIn(
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.sleep(Math.max(CONFIG_SETTLE_MS, lastRound.endedAt + CONFIG_ROUND_SPACING * lastRound.ms - now))
            ).pipe(
              Effect.zipRight(Effect.sync(() => (reconcileSoon = false))),
              Effect.zipRight(rounds.withPermits(1)(reconcile))
            ),
            scope
          )
          return
        }
        const now = yield* Clock.currentTimeMillis
        for (const signal of signalsFromEvent(event, runs, now)) {
          if (signal.event.type === "gateway.run.started" && signal.event.heartbeat) {
            budget.record(signal.event.at)
            heartbeatRuns.inc(labels)
          }
          const agentId = yield* rosterReads.agentIdFor(signal.gatewayAgentId, now)
          if (agentId === undefined) continue
          // A run makes several session changes: one within a few seconds of the last activity adds nothing but a write.
          const lastActivityAt = context.snapshotLiveness(agentId)?.lastActivityAt ?? null
          if (signal.event.type === "gateway.session.changed" && lastActivityAt !== null && signal.event.at - lastActivityAt < SESSION_COALESCE_MS) continue
          yield* context.send(agentId, signal.event)
        }
      })

    yield* rosterReads.refresh("reconcile")
    // A socket announced ready from now on is seen by the subscription below: a round made for
    // one of those stands for the first round too.
    const subscribedAt = performance.now()
    yield* client.events.pipe(
      Stream.filter((event) => event.gatewayId === gatewayId),
      Stream.runForEach(onEvent),
      Effect.forkIn(scope)
    )
    // The subscription above starts with its fiber; let it before the first connect.
    yield* Effect.sleep("20 millis")
    yield* onReady(subscribedAt)
    yield* rounds.withPermits(1)(reach.probe).pipe(Effect.repeat(Schedule.spaced(config.livenessProbeMs)), Effect.forkIn(scope))
    // The connect above has just reconciled: the periodic rounds start one period after it.
    yield* Effect.sleep(config.reconcileMs).pipe(Effect.zipRight(rounds.withPermits(1)(reconcile)), Effect.forever, Effect.forkIn(scope))
    return yield* Deferred.await(context.gone)
  }).pipe(
    // Each start in a scope of its own: a failed one leaves none of its fibers behind.
    Effect.scoped,
    // A start that failed (a read of the row or the roster, the database away) is tried again.
    Effect.tapError((error) => (error._tag === "GatewayNotFound" ? Effect.void : Effect.logWarning(`liveness ${gatewayId}: starting the watcher failed (${error.message}); trying again`))),
    Effect.retry({ schedule: watcherRestart, while: (error) => error._tag !== "GatewayNotFound" }),
    // The gateway's row is gone: the watcher ends, and its owner lets the gateway go (docs/architecture.md §11).
    Effect.catchTag("GatewayNotFound", () => Effect.void),
    Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError(`liveness ${gatewayId}: watcher stopped by a defect; the gateway stays hosted without liveness until its programs restart`, cause))),
    Effect.withSpan("Liveness.watchGateway", { attributes: { gateway_id: gatewayId } })
  ) satisfies Effect.Effect<void, never, unknown>

export type WatchGatewayRequirements = Effect.Effect.Context<ReturnType<typeof watchGateway>> | Scope.Scope
