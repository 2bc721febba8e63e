import { Effect, Layer } from "effect"
import { AgentSystem, AgentSystemLive } from "./agents/AgentSystem.ts"
import { AgentConfigBatcherLive } from "./agents/AgentConfigBatcher.ts"
import { GatewayJanitorLive } from "./agents/GatewayJanitor.ts"
import { AppConfig } from "./config/AppConfig.ts"
import { GatewayAdminLive } from "./fleet/GatewayAdmin.ts"
import { GatewayQueriesLive } from "./fleet/GatewayQueries.ts"
import { GatewayClientLive } from "./gateway/GatewayClient.ts"
import { HttpLive } from "./http/HttpApp.ts"
import { ActivityRepoLive } from "./store/ActivityRepo.ts"
import { AgentRepoLive } from "./store/AgentRepo.ts"
import { BoardRepoLive } from "./store/BoardRepo.ts"
import { MigrationsLive, SqlLive } from "./store/Database.ts"
import { GatewayRepoLive } from "./store/GatewayRepo.ts"
import { SyncJobRepoLive } from "./store/SyncJobRepo.ts"
import { TaskRepoLive } from "./store/TaskRepo.ts"
import { SyncJobsLive } from "./sync/SyncJobs.ts"

export const CLIENT_VERSION = "0.1.0"

/** The SQL client, with migrations applied before anything else can use it. */
const DatabaseLive = Layer.provideMerge(MigrationsLive, SqlLive)

const ReposLive = Layer.mergeAll(GatewayRepoLive, BoardRepoLive, AgentRepoLive, TaskRepoLive, ActivityRepoLive, SyncJobRepoLive)

const GatewayLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    GatewayClientLive({ callTimeoutMs: config.gatewayCallTimeoutMs, handshakeTimeoutMs: 15_000, clientVersion: CLIENT_VERSION })
  )
)

const BatcherLive = Layer.unwrapEffect(Effect.map(AppConfig, (config) => AgentConfigBatcherLive(config.configBatchMs)))

/** Restores every agent actor in the background, so `/readyz` can report progress. */
const RestoreLive = Layer.scopedDiscard(
  Effect.flatMap(AgentSystem, (system) => system.restoreAll).pipe(
    Effect.tapError((error) => Effect.logError(`restoring agent actors failed; /readyz stays 503: ${error.message}`)),
    Effect.ignore,
    Effect.forkScoped
  )
)

/** Everything below the HTTP server: database, repositories, gateway client, agent actors. */
export const CoreLive = Layer.mergeAll(RestoreLive, GatewayJanitorLive, GatewayQueriesLive, GatewayAdminLive, SyncJobsLive).pipe(
  Layer.provideMerge(AgentSystemLive),
  Layer.provideMerge(BatcherLive),
  Layer.provideMerge(Layer.mergeAll(ReposLive, GatewayLive)),
  Layer.provideMerge(DatabaseLive)
)

/** The whole service for a given configuration layer. */
export const ServiceLive = HttpLive.pipe(Layer.provideMerge(CoreLive))
