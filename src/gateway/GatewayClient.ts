import { randomUUID } from "node:crypto"
import { Context, Effect, Layer, PubSub, Runtime, Stream, type Redacted } from "effect"
import { makeConfigRevisions, type TrackedConnection } from "./configRevisions.ts"
import { countReconnects, measureRpc } from "./gatewayMetrics.ts"
import { GatewayConnection, type ConnectionStatus } from "./GatewayConnection.ts"
import { GatewayConnectionError, type GatewayError, type GatewayPairingRequired } from "./GatewayError.ts"
import { CONNECTION_EVENT, type GatewayEvent, type GatewayHello } from "./GatewayEvent.ts"
import { fingerprintOf, type GatewayTarget } from "./GatewayTarget.ts"
import { Methods, type EventFrame, type Method, type MethodResult } from "./protocol.ts"
import { asFailure, sendRequest } from "./sendRequest.ts"
import { withSpanWhenExported } from "../observability/tracing.ts"

export type { GatewayDevice, GatewayTarget } from "./GatewayTarget.ts"
export { CONNECTION_EVENT, type GatewayEvent, type GatewayHello } from "./GatewayEvent.ts"

export interface CallOptions {
  /** Per-call timeout in ms; defaults to the client's `callTimeoutMs`. */
  readonly timeoutMs?: number
}

export interface GatewayClientShape {
  /**
   * Calls `method` on the target's shared socket and decodes the result with the method's zod
   * schema. Side-effecting methods whose params admit one (`chat.send`) get an
   * `idempotencyKey` when the caller did not pass one; callers that retry pass a stable key.
   * Fails with a `GatewayError`: `GatewayRpcError` (ok:false), `GatewayConnectionError`,
   * `GatewayTimeoutError` or `GatewayProtocolError` (payload did not match the schema).
   * Every call ends within its timeout (`options.timeoutMs`, else the client's `callTimeoutMs`),
   * with `GatewayTimeoutError` if nothing came back, even when it runs in an uninterruptible
   * region; a late answer is dropped.
   */
  readonly call: <M extends Method>(
    target: GatewayTarget,
    method: M,
    params: Record<string, unknown>,
    options?: CallOptions
  ) => Effect.Effect<MethodResult<M>, GatewayError>
  /**
   * Opens the socket if needed and returns what the gateway said of itself in `hello-ok`
   * (docs/gateway-protocol.md §2.3). Fails with `GatewayConnectionError` (unreachable, refused, wrong
   * protocol or scopes), or `GatewayPairingRequired` while the target's device awaits approval.
   * A pinned target that `forget` has overtaken fails as `retargeted` without dialling, so it never
   * replaces the socket of the gateway's new target (docs/architecture.md §9.1 "Update").
   */
  readonly connect: (target: GatewayTarget) => Effect.Effect<GatewayHello, GatewayConnectionError | GatewayPairingRequired>
  /** Every event pushed by any gateway this client is connected to. */
  readonly events: Stream.Stream<GatewayEvent>
  /** Sockets opened so far (reconnects included), and calls made and their summed latency (ms), by method. */
  readonly stats: Effect.Effect<{
    readonly socketsOpened: number
    readonly calls: Readonly<Record<string, number>>
    readonly totalMs: Readonly<Record<string, number>>
  }>
  /**
   * Runs `effect` while holding the gateway's config-write lock: config writes are serialised
   * per gateway (read hash → patch), so concurrent agents do not invalidate each other's
   * `baseHash` (docs/gateway-protocol.md §5 config.patch).
   */
  readonly withConfigLock: <A, E, R>(gatewayId: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Drops the socket of a gateway (deleted, moved, or its url or token changed), and raises its
   * generation: calls in flight on that socket, and later calls with a target pinned before, fail
   * as `retargeted` (`GatewayTarget.generation`), never as a final "disposed" (docs/architecture.md §9.1 "Update").
   * Publishes CONNECTION_EVENT `retargeted` for the gateway, socket or not, so its watcher reads
   * its target again (docs/operations.md §8).
   */
  readonly forget: (gatewayId: string) => Effect.Effect<void>
  /**
   * The gateway's generation in this client, to pin a target with: read it before the gateway's
   * row, so a row read before a change carries a generation `forget` has raised since.
   */
  readonly generation: (gatewayId: string) => Effect.Effect<number>
  /** The ids of the gateways this client holds a connection for. */
  readonly connected: Effect.Effect<ReadonlyArray<string>>
  /**
   * The gateway's config revision as this client has heard it, read synchronously: a counter
   * that rises on every `config.changed` event, on every socket opened or closed (a reconnect may
   * have missed events), and on a gap in the events' `seq` (the gateway drops events for a slow
   * reader, `config.changed` among them). Equal values read before and after a call on the
   * socket mean no `config.changed` came before that call's answer (docs/gateway-protocol.md §6).
   * `undefined` when this client holds no socket for the gateway (a cluster runner that does
   * not own it: its events go to the owner), so nothing can be cached on it.
   */
  readonly configRevision: (gatewayId: string) => number | undefined
}

/** The gateway RPC client: one persistent, multiplexed socket per gateway (docs/gateway-protocol.md §1). */
export class GatewayClient extends Context.Tag("switchyard/GatewayClient")<GatewayClient, GatewayClientShape>() {}

export interface GatewayClientConfig {
  /** Default per-call timeout in ms (as the gateway's own client; docs/gateway-protocol.md §1). */
  readonly callTimeoutMs: number
  /** Handshake timeout in ms (as the gateway's own client; docs/gateway-protocol.md §1). */
  readonly handshakeTimeoutMs: number
  readonly clientVersion: string
}

interface PoolEntry {
  readonly connection: GatewayConnection
  readonly fingerprint: string
  /** Retired when the connection is disposed: its socket's late frames and close are dropped (no revision moved, nothing on `events`). */
  readonly tracking: TrackedConnection
}

/**
 * A side-effecting method's params with an `idempotencyKey` (a fresh one unless the caller gave
 * one). A caller that retries adds it once, before retrying, so a retry is not a second send.
 */
export const withIdempotencyKey = (method: Method, params: Record<string, unknown>): Record<string, unknown> =>
  Methods[method].idempotent && params["idempotencyKey"] === undefined ? { ...params, idempotencyKey: randomUUID() } : params

/** Builds the live client; sockets are closed when the layer's scope closes. */
export const makeGatewayClient = (config: GatewayClientConfig) =>
  Effect.gen(function* () {
    const pool = new Map<string, PoolEntry>()
    const runtime = yield* Effect.runtime<never>()
    const storeDeviceToken = (target: GatewayTarget) => (deviceToken: Redacted.Redacted<string>) => {
      const store = target.onDeviceToken
      if (store === undefined) return
      Runtime.runFork(runtime)(
        Effect.suspend(() => store(deviceToken)).pipe(
          Effect.catchAllCause(() => Effect.logWarning(`gateway ${target.id}: storing the issued device token failed`))
        )
      )
    }
    const configLocks = new Map<string, Effect.Semaphore>()
    const configLock = (gatewayId: string) => {
      const existing = configLocks.get(gatewayId)
      if (existing !== undefined) return existing
      const created = Effect.unsafeMakeSemaphore(1)
      configLocks.set(gatewayId, created)
      return created
    }
    const hub = yield* PubSub.sliding<GatewayEvent>(4096)
    let retiredSockets = 0
    const calls: Record<string, number> = {}
    const totalMs: Record<string, number> = {}
    const revisions = makeConfigRevisions()
    // A PubSub is an Enqueue, so the socket's callbacks can offer without a fiber; readiness and losses go out on `events` too (CONNECTION_EVENT).
    const track = (gatewayId: string, count: (status: ConnectionStatus) => void) =>
      revisions.track(gatewayId, {
        event: (frame: EventFrame) => hub.unsafeOffer({ gatewayId, event: frame.event, payload: frame.payload, seq: frame.seq }),
        status: (status) => {
          count(status)
          if (status !== "connecting") hub.unsafeOffer({ gatewayId, event: CONNECTION_EVENT, payload: { status, at: Date.now(), monotonicAt: performance.now() } })
        }
      })

    const connectionFor = (target: GatewayTarget): GatewayConnection => {
      const fingerprint = fingerprintOf(target)
      const existing = pool.get(target.id)
      if (existing !== undefined && existing.fingerprint === fingerprint) return existing.connection
      if (existing !== undefined) {
        retiredSockets += existing.connection.opened
        existing.tracking.retire()
        existing.connection.dispose("replaced")
      }
      const device = target.device
      const tracking = track(target.id, countReconnects(target.id))
      const connection = new GatewayConnection({
        url: target.url,
        token: target.token,
        device: device === undefined ? undefined : { identity: device.identity, deviceToken: device.deviceToken },
        onDeviceToken: storeDeviceToken(target),
        headers: target.headers,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        clientVersion: config.clientVersion,
        onEvent: tracking.onEvent,
        onStatus: tracking.onStatus
      })
      pool.set(target.id, { connection, fingerprint, tracking })
      return connection
    }

    // Generations of the gateways a target was pinned for (others have nothing to raise).
    const generations = new Map<string, number>()
    const isStale = (target: GatewayTarget) => target.generation !== undefined && target.generation !== (generations.get(target.id) ?? 0)
    const retargeted = (target: GatewayTarget) =>
      new GatewayConnectionError({ reason: "retargeted", message: `gateway ${target.id} was retargeted (or moved) since this target was read`, retryable: false })

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const entry of pool.values()) {
          entry.tracking.retire()
          entry.connection.dispose()
        }
        pool.clear()
      })
    )

    const call = <M extends Method>(
      target: GatewayTarget,
      method: M,
      params: Record<string, unknown>,
      options?: CallOptions
    ): Effect.Effect<MethodResult<M>, GatewayError> => {
      const timeoutMs = options?.timeoutMs ?? config.callTimeoutMs
      const body = withIdempotencyKey(method, params)
      const sent = Effect.suspend(() => {
        // A stale pinned target never reaches (nor re-dials) the old address.
        if (isStale(target)) return Effect.fail(retargeted(target))
        calls[method] = (calls[method] ?? 0) + 1
        return sendRequest(connectionFor(target), method, body, timeoutMs)
      })
      // A pinned call the gateway's retargeting overtook fails as retargeted, whatever its socket said.
      const send = target.generation === undefined ? sent : Effect.catchAll(sent, (error) => Effect.fail(isStale(target) ? retargeted(target) : error))
      return send.pipe(
        measureRpc(method, (ms) => {
          totalMs[method] = (totalMs[method] ?? 0) + ms
        }),
        // One span per RPC while spans are exported (none under Effect's own tracer: nothing reads
        // it, and it cost more than the call's bookkeeping, docs/architecture.md §5.6); a program's
        // spans also carry its `agent_id` (effectActor). No stack trace: it would always name this
        // line, at the cost of an Error per call.
        withSpanWhenExported(`gateway.${method}`, {
          kind: "client",
          attributes: { "rpc.system": "openclaw", "rpc.method": method, gateway_id: target.id },
          captureStackTrace: false
        })
      )
    }

    const connect = (target: GatewayTarget) => {
      // A stale pinned target never dials the old address, nor replaces the socket of the new one.
      const opened = Effect.suspend(() => {
        if (isStale(target)) return Effect.fail(retargeted(target))
        const connection = connectionFor(target)
        return Effect.tryPromise({ try: () => connection.connect(), catch: asFailure }).pipe(
          Effect.map((): GatewayHello => {
            const hello = connection.hello
            return {
              serverVersion: hello?.server.version ?? "unknown",
              protocol: hello?.protocol ?? 0,
              methods: hello?.features?.methods ?? [],
              events: hello?.features?.events ?? []
            }
          })
        )
      })
      // A pinned connect the gateway's retargeting overtook fails as retargeted, as `call` does.
      return target.generation === undefined
        ? opened
        : Effect.catchAll(opened, (error) => Effect.fail(isStale(target) ? retargeted(target) : error))
    }

    return GatewayClient.of({
      call,
      connect,
      events: Stream.fromPubSub(hub),
      withConfigLock: (gatewayId, effect) => configLock(gatewayId).withPermits(1)(effect),
      stats: Effect.sync(() => ({
        socketsOpened: retiredSockets + [...pool.values()].reduce((n, entry) => n + entry.connection.opened, 0),
        calls: { ...calls },
        totalMs: { ...totalMs }
      })),
      connected: Effect.sync(() => [...pool.keys()]),
      configRevision: (gatewayId) => (pool.has(gatewayId) ? revisions.revision(gatewayId) : undefined),
      generation: (gatewayId) =>
        Effect.sync(() => {
          const generation = generations.get(gatewayId) ?? 0
          generations.set(gatewayId, generation)
          return generation
        }),
      forget: (gatewayId) =>
        Effect.sync(() => {
          const generation = generations.get(gatewayId)
          if (generation !== undefined) generations.set(gatewayId, generation + 1)
          const entry = pool.get(gatewayId)
          if (entry !== undefined) {
            retiredSockets += entry.connection.opened
            // Its calls in flight fail as retargeted: their steps are redone on the target read anew.
            entry.tracking.retire()
            entry.connection.dispose("retargeted")
            pool.delete(gatewayId)
          }
          // The retired socket's close is dropped: this tells the watcher, without a loss, to read the target again.
          hub.unsafeOffer({ gatewayId, event: CONNECTION_EVENT, payload: { status: "retargeted", at: Date.now(), monotonicAt: performance.now() } })
        })
    })
  })

/** Live layer; the sockets live as long as the layer. */
export const GatewayClientLive = (config: GatewayClientConfig) => Layer.scoped(GatewayClient, makeGatewayClient(config))
