import { Effect, Layer } from "effect"
import { AgentSystem, AgentSystemLive } from "./agents/AgentSystem.ts"
import { AgentConfigBatcherLive } from "./agents/AgentConfigBatcher.ts"
import { GroupCommitLive } from "./agents/GroupCommit.ts"
import { SoulFilesLive } from "./coordination/SoulFiles.ts"
import { GatewayJanitorLive } from "./fleet/GatewayJanitor.ts"
import { AppConfig } from "./config/AppConfig.ts"
import { GatewayAdminLive } from "./fleet/GatewayAdmin.ts"
import { GatewayQueriesLive } from "./fleet/GatewayQueries.ts"
import { GatewayClientLive } from "./gateway/GatewayClient.ts"
import { HttpLive } from "./http/HttpApp.ts"
import { AgentInboxLive } from "./inbox/AgentInbox.ts"
import { MessageLedgerLive } from "./messages/MessageLedger.ts"
import { ActivityRepoLive } from "./store/ActivityRepo.ts"
import { AgentApiKeyRepoLive } from "./store/AgentApiKeyRepo.ts"
import { AgentRepoLive } from "./store/AgentRepo.ts"
import { BoardMemoryRepoLive } from "./store/BoardMemoryRepo.ts"
import { BoardOnboardingRepoLive } from "./store/BoardOnboardingRepo.ts"
import { BoardRepoLive } from "./store/BoardRepo.ts"
import { MigrationsLive, SqlLive } from "./store/Database.ts"
import { GatewayRepoLive } from "./store/GatewayRepo.ts"
import { InboxRepoLive } from "./store/InboxRepo.ts"
import { MessageRepoLive } from "./store/MessageRepo.ts"
import { SyncJobRepoLive } from "./store/SyncJobRepo.ts"
import { TaskRepoLive } from "./store/TaskRepo.ts"
import { TransitionRepoLive } from "./store/TransitionRepo.ts"
import { SyncJobsLive } from "./sync/SyncJobs.ts"
import { AgentChangeFeedLive, AgentStreamsDrainLive } from "./streams/AgentChangeFeed.ts"
import { TracingLive } from "./observability/tracing.ts"
import { LivenessWatchersLive } from "./liveness/LivenessWatchersLive.ts"

export const CLIENT_VERSION = "0.1.0"

/** The SQL client, with migrations applied before anything else can use it. */
const DatabaseLive = Layer.provideMerge(MigrationsLive, SqlLive)

const ReposLive = Layer.mergeAll(GatewayRepoLive, BoardRepoLive, AgentRepoLive, TaskRepoLive, ActivityRepoLive, SyncJobRepoLive, TransitionRepoLive, InboxRepoLive, AgentApiKeyRepoLive, MessageRepoLive, BoardMemoryRepoLive, BoardOnboardingRepoLive)

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
export const CoreLive = Layer.mergeAll(RestoreLive, GatewayJanitorLive, GatewayQueriesLive, GatewayAdminLive, SyncJobsLive, AgentChangeFeedLive, AgentInboxLive, SoulFilesLive, LivenessWatchersLive).pipe(
  Layer.provideMerge(MessageLedgerLive),
  Layer.provideMerge(AgentSystemLive),
  Layer.provideMerge(GroupCommitLive),
  Layer.provideMerge(BatcherLive),
  Layer.provideMerge(Layer.mergeAll(ReposLive, GatewayLive)),
  Layer.provideMerge(DatabaseLive)
)

/**
 * The whole service for a given configuration layer. The stream drain is built after the HTTP
 * server, so it ends open streams before the server closes (which waits for them). The tracer
 * (when `OTEL_EXPORTER_OTLP_ENDPOINT` is set) is installed first, so every runtime captured
 * below exports its spans, and it is shut down (flushed) last.
 */
export const ServiceLive = AgentStreamsDrainLive.pipe(Layer.provideMerge(HttpLive), Layer.provideMerge(CoreLive), Layer.provide(TracingLive))
