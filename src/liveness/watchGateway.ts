import { Cause, Clock, Effect, Schedule, Scope, Stream } from "effect"
import type { z } from "zod"
import type { LivenessEvent } from "../../machines/agent/livenessTypes.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { loadGateway } from "../agents/programs/loadGateway.ts"
import { AppConfig } from "../config/AppConfig.ts"
import { CONNECTION_EVENT, GatewayClient, type GatewayEvent } from "../gateway/GatewayClient.ts"
import { HealthResult } from "../gateway/protocol.ts"
import { gatewayReachable, heartbeatRuns, heartbeatTurnsPerAgentHour, livenessRosterReads } from "../observability/metrics.ts"
import { GatewayLiveness } from "./GatewayLiveness.ts"
import { gatewayRoster } from "./gatewayRoster.ts"
import { HealthSampleMemo } from "./HealthSampleMemo.ts"
import { HeartbeatBudget } from "./HeartbeatBudget.ts"
import { reconcileAgents } from "./reconcileAgents.ts"
import { RosterCache } from "./RosterCache.ts"
import { RunTracker, signalsFromEvent } from "./signalsFromEvent.ts"

/** A watcher's own calls are probes: they get a short timeout, never the lifecycle's. */
const PROBE_TIMEOUT_MS = 10_000
/** Session changes this close (ms) to the agent's last recorded activity are not sent. */
const SESSION_COALESCE_MS = 5_000
/** Reachability probes timing out in a row before a gateway whose socket is open counts as unreachable. */
const SLOW_PROBES = 3
/** How long after a `config.changed` the watcher reconciles `agents.list`. */
const CONFIG_SETTLE_MS = 1_000
/**
 * A reconciliation caused by a `config.changed` starts at least this many times its last round's
 * duration after that round ended: its reads are fleet-sized (~5 CPU s at 100,000 agents), and a
 * burst of config writes (ours included) must not make them back to back.
 */
const CONFIG_ROUND_SPACING = 10
/** Fewest ms between two roster reads caused by signals for agents not (yet) in it. */
const ROSTER_RELOAD_MS = 5_000
/** A `health` sample identical to the last one applied is still applied agent by agent every this many samples (one per reconciliation). */
const HEALTH_FULL_EVERY = 2
/**
 * The reachability probe: a read whose answer is one row whatever the fleet's size (a `health`
 * answer lists every agent of the gateway, ~300 B each; docs/operations.md §8).
 */
const REACH_METHOD = "sessions.list"
const REACH_PARAMS = { limit: 1 }

/** What a gateway lacking a method or event costs (docs/operations.md §8). */
const SIGNALS = {
  methods: { "sessions.subscribe": "session changes are not watched", health: "effective heartbeats are not read (the configured limits apply)", "agents.list": "missing agents are not detected" },
  events: { agent: "runs are not seen", heartbeat: "heartbeat runs without a run id are not seen", health: "health is read by polling only" },
  /** The reachability probe's method: without it `health` probes reachability too (a fleet-sized answer every probe). */
  reach: "reachability is probed with health (its answer lists every agent)"
} as const

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
 * round tries again. The gateway's target (url, token) is read again on every (re)connect and
 * lost socket, so a PATCH whose watcher restart was missed heals at the next reconnect.
 * One function per gateway, so a cluster can host it where the gateway lives.
 */
export const watchGateway = (gatewayId: string) =>
  Effect.gen(function* () {
    const client = yield* GatewayClient
    const system = yield* AgentSystem
    const registry = yield* GatewayLiveness
    const config = yield* AppConfig
    const scope = yield* Effect.scope
    // Read again on every (re)connect and lost socket: a PATCHed url or token reaches the watcher
    // even if its restart was missed, and it never reopens a socket to the old target.
    let target = (yield* loadGateway(gatewayId)).target
    const refreshTarget = loadGateway(gatewayId).pipe(
      Effect.tap((loaded) => Effect.sync(() => (target = loaded.target))),
      Effect.catchAll((error) => Effect.logWarning(`liveness ${gatewayId}: reading its target failed; keeping the last one: ${error.message}`))
    )
    const runs = new RunTracker()
    const budget = new HeartbeatBudget(yield* Clock.currentTimeMillis)
    const roster = new RosterCache(ROSTER_RELOAD_MS)
    const samples = new HealthSampleMemo(HEALTH_FULL_EVERY)
    let reachable: boolean | null = null
    /** Whether the socket's gateway offers `health` and the one-row reachability read (from the last `hello-ok`). */
    let offers = { health: true, reach: true }
    let reconcileSoon = false
    /** The last reconciliation's end (epoch ms) and duration (ms). */
    let lastRound = { endedAt: 0, ms: 0 }
    const rounds = yield* Effect.makeSemaphore(1)
    const labels = { gateway_id: gatewayId }
    const probeOptions = { timeoutMs: Math.min(config.gatewayCallTimeoutMs, PROBE_TIMEOUT_MS) }

    const reloadRoster = (cause: "reconcile" | "signal") =>
      Effect.gen(function* () {
        livenessRosterReads.inc({ ...labels, cause })
        const read = yield* gatewayRoster(gatewayId)
        roster.replace(read, yield* Clock.currentTimeMillis)
      }).pipe(Effect.catchAll((error) => Effect.logWarning(`liveness ${gatewayId}: reading its agents failed: ${error.message}`)))

    /**
     * Our agent for a signal's gateway agent id. One not in the roster may be a worker created
     * since it was read (its wake's run comes within a second): its actor, local beside the
     * gateway's watcher, says so without a read (`mc-<agent id>`, docs/architecture.md §5.1).
     * Otherwise the roster is read again, boundedly (RosterCache): a flood of signals from
     * orphans costs at most one read per ROSTER_RELOAD_MS.
     */
    const agentIdFor = (gatewayAgentId: string, now: number) =>
      Effect.gen(function* () {
        const known = roster.agentIdOf(gatewayAgentId)
        if (known !== undefined) return known
        const local = gatewayAgentId.startsWith("mc-") ? system.snapshot(gatewayAgentId.slice(3))?.context : undefined
        if (local !== undefined && local.gatewayId === gatewayId && local.gatewayAgentId === gatewayAgentId) {
          roster.add(gatewayAgentId, local.agentId)
          return local.agentId
        }
        if (!roster.shouldReload(gatewayAgentId, now)) return undefined
        yield* reloadRoster("signal")
        const found = roster.agentIdOf(gatewayAgentId)
        if (found === undefined) roster.markAbsent(gatewayAgentId)
        return found
      })

    const send = (agentId: string, event: LivenessEvent) => Effect.ignore(system.send(agentId, event))
    const snapshotLiveness = (agentId: string) => system.snapshot(agentId)?.context.liveness
    /** Sends to every agent of the gateway whose snapshot `needs` it (a repeated signal would only cost a write). */
    const sendToAll = (needs: (agentId: string) => boolean, make: (at: number) => LivenessEvent) =>
      Effect.forEach([...roster.roster.values()].filter(needs), (agentId) => Effect.flatMap(Clock.currentTimeMillis, (at) => send(agentId, make(at))), {
        concurrency: 16,
        discard: true
      })

    const markLost = (reason: string) =>
      Effect.suspend(() => {
        if (reachable === false) return Effect.void
        reachable = false
        gatewayReachable.set(labels, 0)
        return Effect.gen(function* () {
          const at = yield* Clock.currentTimeMillis
          yield* registry.update(gatewayId, { reachable: false, since: at })
          yield* Effect.logWarning(`liveness ${gatewayId}: gateway unreachable (${reason})`)
          yield* sendToAll((id) => snapshotLiveness(id)?.gatewayReachable !== false, (now) => ({ type: "gateway.connection.lost", at: now, source: "socket", reason }))
        })
      })

    const markReached = Effect.suspend(() => {
      if (reachable === true) return Effect.void
      const was = reachable
      reachable = true
      gatewayReachable.set(labels, 1)
      return Effect.gen(function* () {
        yield* registry.update(gatewayId, { reachable: true, since: yield* Clock.currentTimeMillis })
        if (was === false) yield* Effect.logInfo(`liveness ${gatewayId}: gateway reachable again`)
        // Also after a start of the service: a snapshot may still say the gateway was away.
        yield* sendToAll((id) => snapshotLiveness(id)?.gatewayReachable === false, (at) => ({ type: "gateway.connection.regained", at, source: "socket" }))
      })
    })

    /** Effective heartbeats from a decoded `health` result, sent to the agents whose snapshot says otherwise. */
    const applyHealth = (health: z.infer<typeof HealthResult>) =>
      Effect.gen(function* () {
        // A pushed `health` is the gateway's cached sample: older than what the agent knows, it says nothing.
        const agents = health.agents ?? []
        if (samples.unchanged(agents, roster.roster)) return
        const at = health.ts ?? (yield* Clock.currentTimeMillis)
        for (const entry of agents) {
          const agentId = roster.agentIdOf(entry.agentId)
          const heartbeat = entry.heartbeat
          if (agentId === undefined || heartbeat === undefined) continue
          const known = snapshotLiveness(agentId)?.heartbeat
          if (known !== undefined && known !== null && known.at > at) continue
          if (known?.enabled === heartbeat.enabled && known.every === heartbeat.every && known.everyMs === heartbeat.everyMs) continue
          yield* send(agentId, { type: "gateway.heartbeat.effective", at, source: "health", enabled: heartbeat.enabled, every: heartbeat.every, everyMs: heartbeat.everyMs })
        }
      })

    /** Effective heartbeats from a live `health {probe: true}` sample (~40 ms on 2026.9.6, fleet-sized); a failure is logged, the next read tries again. */
    const readHeartbeats = Effect.suspend(() =>
      offers.health
        ? client.call(target, "health", { probe: true }, probeOptions).pipe(
            // A sample not applied to every agent must not count as applied: the next identical one is.
            Effect.flatMap((health) => Effect.tapError(applyHealth(health), () => Effect.sync(() => samples.forget()))),
            Effect.catchAll((error) => Effect.logWarning(`liveness: health on gateway ${gatewayId} failed: ${error.message}`))
          )
        : Effect.void
    )

    // Reachability: a one-row read (a gateway without it is probed with `health`, which it then applies).
    // A slow answer on a live socket is a busy gateway, not a lost one: only SLOW_PROBES timeouts in
    // a row count (a dead socket is closed by the connection's own silence watchdog, and says so).
    let slowProbes = 0
    const probe = Effect.suspend(() =>
      offers.reach || !offers.health
        ? Effect.as(client.call(target, REACH_METHOD, REACH_PARAMS, probeOptions), undefined)
        : client.call(target, "health", { probe: true }, probeOptions)
    ).pipe(
      Effect.matchEffect({
        onFailure: (error) => {
          // An answer, even a refusal or one we cannot decode, comes from a reachable gateway.
          if (error._tag === "GatewayRpcError" || error._tag === "GatewayProtocolError") {
            slowProbes = 0
            return Effect.zipRight(markReached, Effect.logWarning(`liveness: probe of gateway ${gatewayId} failed: ${error.message}`))
          }
          if (error._tag !== "GatewayTimeoutError") return Effect.zipRight(refreshTarget, markLost(error.message))
          slowProbes += 1
          return slowProbes >= SLOW_PROBES ? markLost(`probe timed out ${slowProbes} times in a row`) : Effect.void
        },
        onSuccess: (health) => {
          slowProbes = 0
          return Effect.zipRight(markReached, health === undefined ? Effect.void : applyHealth(health))
        }
      })
    )

    const reconcile = Effect.scoped(Effect.gen(function* () {
      if (reachable !== true) return
      const startedAt = yield* Clock.currentTimeMillis
      yield* Effect.addFinalizer(() => Effect.map(Clock.currentTimeMillis, (endedAt) => void (lastRound = { endedAt, ms: endedAt - startedAt })))
      yield* reloadRoster("reconcile")
      yield* readHeartbeats
      yield* reconcileAgents({ gatewayId, target, roster: roster.roster, send, registry })
      const perAgentHour = budget.perAgentHour(yield* Clock.currentTimeMillis, roster.roster.size)
      if (perAgentHour !== null) heartbeatTurnsPerAgentHour.set(labels, perAgentHour)
      yield* registry.update(gatewayId, { heartbeatTurnsPerAgentHour: perAgentHour })
    }))

    /** After every (re)connect: read the target again, the features, subscribe to what is offered, probe, reconcile. */
    const onReady = Effect.gen(function* () {
      yield* refreshTarget
      const socketTarget = target
      const hello = yield* client.connect(socketTarget)
      const degraded: string[] = []
      for (const [method, cost] of Object.entries(SIGNALS.methods)) {
        if (!hello.methods.includes(method)) degraded.push(`${method} (method): ${cost}`)
      }
      for (const [event, cost] of Object.entries(SIGNALS.events)) {
        if (!hello.events.includes(event)) degraded.push(`${event} (event): ${cost}`)
      }
      if (hello.methods.includes("sessions.subscribe")) {
        yield* client.call(socketTarget, "sessions.subscribe", {}, probeOptions).pipe(
          Effect.catchAll((error) => Effect.sync(() => degraded.push(`sessions.subscribe (method): failed (${error.message}); session changes are not watched`)))
        )
      }
      offers = { health: hello.methods.includes("health"), reach: hello.methods.includes(REACH_METHOD) }
      if (!offers.reach) degraded.push(`${REACH_METHOD} (method): ${SIGNALS.reach}`)
      if (degraded.length > 0) yield* Effect.logWarning(`liveness ${gatewayId}: degraded signals: ${degraded.join("; ")}`)
      yield* registry.update(gatewayId, { serverVersion: hello.serverVersion, degraded })
      yield* probe
      yield* reconcile
    }).pipe(
      Effect.catchAll((error) => markLost(error.message)),
      rounds.withPermits(1)
    )

    const onEvent = (event: GatewayEvent) =>
      Effect.gen(function* () {
        if (event.event === CONNECTION_EVENT) {
          const status = (event.payload as { status?: string } | undefined)?.status
          if (status === "closed") return yield* Effect.zipRight(refreshTarget, markLost("socket closed"))
          if (status === "ready") yield* Effect.forkIn(onReady, scope)
          return
        }
        // Pushed samples are cached ones (docs/gateway-protocol.md §10), as large as the fleet: where
        // `health` can be called, the reads on connect, config change and reconciliation say the same.
        if (event.event === "health") {
          if (offers.health) return
          const health = HealthResult.safeParse(event.payload)
          return health.success ? yield* applyHealth(health.data) : undefined
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
          const agentId = yield* agentIdFor(signal.gatewayAgentId, now)
          if (agentId === undefined) continue
          // A run makes several session changes: one within a few seconds of the last activity adds nothing but a write.
          const lastActivityAt = snapshotLiveness(agentId)?.lastActivityAt ?? null
          if (signal.event.type === "gateway.session.changed" && lastActivityAt !== null && signal.event.at - lastActivityAt < SESSION_COALESCE_MS) continue
          yield* send(agentId, signal.event)
        }
      })

    yield* reloadRoster("reconcile")
    yield* client.events.pipe(
      Stream.filter((event) => event.gatewayId === gatewayId),
      Stream.runForEach(onEvent),
      Effect.forkIn(scope)
    )
    // The subscription above starts with its fiber; let it before the first connect.
    yield* Effect.sleep("20 millis")
    yield* onReady
    yield* rounds.withPermits(1)(probe).pipe(Effect.repeat(Schedule.spaced(config.livenessProbeMs)), Effect.forkIn(scope))
    yield* rounds.withPermits(1)(reconcile).pipe(Effect.repeat(Schedule.spaced(config.reconcileMs)), Effect.forkIn(scope))
    return yield* Effect.never
  }).pipe(
    Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logWarning(`liveness ${gatewayId}: watcher stopped`, cause))),
    Effect.withSpan("Liveness.watchGateway", { attributes: { gateway_id: gatewayId } })
  ) satisfies Effect.Effect<void, never, unknown>

export type WatchGatewayRequirements = Effect.Effect.Context<ReturnType<typeof watchGateway>> | Scope.Scope
