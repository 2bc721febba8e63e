import { createServer } from "node:net"
import { RunnerAddress, RunnerHealth, Runners, RunnerStorage, ShardingConfig, SocketRunner, SqlMessageStorage, SqlRunnerStorage } from "@effect/cluster"
import { NodeSocket, NodeSocketServer } from "@effect/platform-node"
import { Socket } from "@effect/platform"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Context, Duration, Effect, Layer, Option } from "effect"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.ts"
import { namedSqlClient, withSchemaLock } from "../database/Database.ts"
import { markSessionlessRunnersUnhealthy } from "./sessionlessRunners.ts"
import { sharedRunnerReads } from "./sharedRunnerReads.ts"

/** A port the OS reports free on `host` now (`SWITCHYARD_RUNNER_PORT=0`, the single-instance default). */
const freePort = (host: string) =>
  Effect.async<number, Error>((resume) => {
    const server = createServer()
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  })

/** `application_name` prefix of the engine's database sessions, followed by the runner's `host:port`. */
export const RUNNER_SESSION_PREFIX = "switchyard-runner@"

/** How often the engine reads the runners (its assignment refresh), ms. */
const REFRESH_ASSIGNMENTS_MS = 1_000
/** How long a read of the runners serves other readers: less than a refresh, so the engine's own reads stay fresh. */
const RUNNER_READS_FOR_MS = 900

const isLoopback = (host: string) => host === "127.0.0.1" || host === "localhost" || host === "::1"

/** The engine's settings from ours (docs/operations.md "Cluster"). */
export const shardingConfigOf = (config: AppConfigShape, port: number): Partial<ShardingConfig.ShardingConfig["Type"]> => {
  const expiration = config.shardLockExpirationMs
  return {
    runnerAddress: Option.some(RunnerAddress.make(config.runnerHost, port)),
    // A loopback address listens on loopback only; any other listens on every interface (a
    // container's name, a host's address).
    runnerListenAddress: Option.some(RunnerAddress.make(isLoopback(config.runnerHost) ? config.runnerHost : "0.0.0.0", port)),
    shardLockExpiration: Duration.millis(expiration),
    shardLockRefreshInterval: Duration.millis(Math.max(500, Math.min(10_000, Math.floor(expiration / 3)))),
    // A departing runner's shards are reassigned within a second: one small query per refresh, the
    // largest part of a settled runner's statements (docs/operations.md §7.1).
    refreshAssignmentsInterval: Duration.millis(REFRESH_ASSIGNMENTS_MS),
    // Requests in flight when a gateway leaves (a Send answers within the 15 s persist timeout).
    // It does not bound the gateway's scope closing after them (programs, last snapshots,
    // writers): `stopActors` bounds each step (docs/architecture.md §11).
    entityTerminationTimeout: Duration.millis(15_000 + config.dbStatementTimeoutMs + 5_000),
    entityMailboxCapacity: "unbounded"
  }
}

/**
 * How a runner dials another: as the engine's own socket protocol, with Nagle's algorithm off
 * (small request and reply frames must not wait for an ACK).
 */
const clientProtocol = Layer.effect(
  Runners.RpcClientProtocol,
  Effect.gen(function* () {
    const serialization = yield* RpcSerialization.RpcSerialization
    return (address: RunnerAddress.RunnerAddress) =>
      Effect.gen(function* () {
        const socket = yield* NodeSocket.makeNet({ openTimeout: 1000, timeout: 5500, host: address.host, port: address.port, noDelay: true })
        return yield* RpcClient.makeProtocolSocket().pipe(Effect.provideService(Socket.Socket, socket), Effect.provideService(RpcSerialization.RpcSerialization, serialization))
      }).pipe(Effect.orDie)
  })
)

/**
 * The cluster engine (@effect/cluster) on our Postgres, built from parts: a socket runner on
 * `SWITCHYARD_RUNNER_HOST:SWITCHYARD_RUNNER_PORT` (a free port when 0), shard locks as Postgres
 * advisory locks and runners in SQL (`SqlRunnerStorage`), SQL message storage, runner health by
 * ping, MessagePack between runners. The engine's tables are created under the schema lock, so
 * instances started together on an empty database do not race (docs/operations.md "Cluster").
 * Provides Sharding, Runners, RunnerStorage, RunnerHealth, ShardingConfig and MessageStorage.
 */
export const ClusterLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* AppConfig
    const port = config.runnerPort === 0 ? yield* Effect.orDie(freePort(config.runnerHost)) : config.runnerPort
    const shardingConfig = ShardingConfig.layer(shardingConfigOf(config, port))
    // The engine's own sessions carry the runner's address, so a hung runner's can be fenced (RunnerReaper).
    const engineSql = namedSqlClient(`${RUNNER_SESSION_PREFIX}${config.runnerHost}:${port}`)
    // Before the engine starts, runners left from a previous run with no database session are
    // marked unhealthy, so the first assignment gives their shards here (docs/architecture.md §11).
    const self = `${config.runnerHost}:${port}`
    // Reads of the runners within RUNNER_READS_FOR_MS share one statement (`sharedRunnerReads`).
    const built = Layer.build(Layer.merge(SqlMessageStorage.layer, SqlRunnerStorage.layer).pipe(Layer.provide(engineSql))).pipe(
      Effect.map((context) => Context.add(context, RunnerStorage.RunnerStorage, sharedRunnerReads(Context.get(context, RunnerStorage.RunnerStorage), RUNNER_READS_FOR_MS))),
      Effect.tap((context) => Effect.provide(markSessionlessRunnersUnhealthy(self, RUNNER_SESSION_PREFIX, false), context))
    )
    const storage = Layer.scopedContext(withSchemaLock(built)).pipe(Layer.orDie)
    const listen = isLoopback(config.runnerHost) ? config.runnerHost : "0.0.0.0"
    const socketServer = NodeSocketServer.layer({ host: listen, port, noDelay: true })
    const health = RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(clientProtocol))
    return SocketRunner.layer.pipe(
      Layer.provide([socketServer, clientProtocol]),
      Layer.provideMerge(health),
      Layer.provideMerge(storage),
      Layer.provideMerge(shardingConfig),
      Layer.provide(RpcSerialization.layerMsgPack)
    )
  })
)
