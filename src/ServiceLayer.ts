import { Effect, Layer } from "effect"
import { LocalAgentsLive } from "./agents/LocalAgents.ts"
import { AgentConfigBatcherLive } from "./agents/AgentConfigBatcher.ts"
import { GroupCommitLive } from "./snapshots/GroupCommit.ts"
import { SoulFilesLive } from "./coordination/SoulFiles.ts"
import { GatewayJanitorLive } from "./fleet/GatewayJanitor.ts"
import { AppConfig } from "./config/AppConfig.ts"
import { GatewayAdminLive } from "./fleet/GatewayAdmin.ts"
import { GatewayQueriesLive } from "./fleet/GatewayQueries.ts"
import { FleetSummariesLive } from "./fleet/FleetSummaries.ts"
import { GatewayClient, GatewayClientLive } from "./gateway/GatewayClient.ts"
import { ClusterLive } from "./cluster/ClusterLive.ts"
import { SecretKeyCheckLive } from "./cluster/SecretKeyCheck.ts"
import { ClusterMetricsLive } from "./cluster/clusterMetrics.ts"
import { ForwardingGatewayClientLive } from "./cluster/ForwardingGatewayClient.ts"
import { GatewayEntityLive } from "./cluster/GatewayEntityLive.ts"
import { ClusterStatsLive } from "./cluster/GatewayHosting.ts"
import { GatewayOwnershipLive } from "./cluster/GatewayOwnership.ts"
import { OwnerNudgesLive } from "./cluster/OwnerNudges.ts"
import { LocalGatewayClient } from "./cluster/LocalGatewayClient.ts"
import { RoutedAgentSystemLive } from "./cluster/RoutedAgentSystem.ts"
import { HttpLive } from "./http/HttpApp.ts"
import { AgentInboxLive } from "./inbox/AgentInbox.ts"
import { MessageLedgerLive } from "./messages/MessageLedger.ts"
import { ActivityRepoLive } from "./store/ActivityRepo.ts"
import { AgentApiKeyRepoLive } from "./store/AgentApiKeyRepo.ts"
import { AgentRepoLive } from "./store/AgentRepo.ts"
import { AuthFailureRepoLive } from "./store/AuthFailureRepo.ts"
import { WorkspaceHashesLive } from "./store/WorkspaceHashes.ts"
import { BoardMemoryRepoLive } from "./store/BoardMemoryRepo.ts"
import { BoardOnboardingRepoLive } from "./store/BoardOnboardingRepo.ts"
import { BoardRepoLive } from "./store/BoardRepo.ts"
import { MigrationsLive, SqlLive } from "./database/Database.ts"
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
import { WorkspaceDriftLive } from "./liveness/WorkspaceDriftLive.ts"

export const CLIENT_VERSION = "0.1.0"

/** The SQL client, with migrations applied before anything else can use it. */
const DatabaseLive = Layer.provideMerge(MigrationsLive, SqlLive)

const ReposLive = Layer.mergeAll(GatewayRepoLive, BoardRepoLive, AgentRepoLive, TaskRepoLive, ActivityRepoLive, SyncJobRepoLive, TransitionRepoLive, InboxRepoLive, AgentApiKeyRepoLive, MessageRepoLive, BoardMemoryRepoLive, BoardOnboardingRepoLive, WorkspaceHashesLive, AuthFailureRepoLive)

const GatewayLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    GatewayClientLive({ callTimeoutMs: config.gatewayCallTimeoutMs, handshakeTimeoutMs: 15_000, clientVersion: CLIENT_VERSION })
  )
)

/** This runner's own sockets; every other module reaches gateways through the forwarding `GatewayClient`. */
const LocalGatewayLive = Layer.effect(LocalGatewayClient, GatewayClient).pipe(Layer.provide(GatewayLive))

const BatcherLive = Layer.unwrapEffect(Effect.map(AppConfig, (config) => AgentConfigBatcherLive(config.configBatchMs)))

/**
 * Everything below the HTTP server: database, repositories, the cluster runner, gateway client,
 * agent actors. Even a single process is a one-runner cluster on the same code path
 * (docs/architecture.md "Cluster"). On shutdown the jobs and deliveries stop first, then the
 * gateway entities: the gateways' actors drain and save their last snapshots, their sockets
 * close, and only then are their shards released.
 */
export const CoreLive = Layer.mergeAll(ClusterMetricsLive, GatewayJanitorLive, GatewayQueriesLive, FleetSummariesLive, GatewayAdminLive, SyncJobsLive, AgentChangeFeedLive, AgentInboxLive, SoulFilesLive).pipe(
  Layer.provideMerge(MessageLedgerLive),
  Layer.provideMerge(GatewayEntityLive),
  // Per-gateway programs the gateway's owner runs beside its actors: the liveness watcher, then the workspace-drift check.
  Layer.provideMerge(WorkspaceDriftLive),
  Layer.provideMerge(LivenessWatchersLive),
  Layer.provideMerge(RoutedAgentSystemLive),
  Layer.provideMerge(LocalAgentsLive),
  Layer.provideMerge(GroupCommitLive),
  Layer.provideMerge(BatcherLive),
  Layer.provideMerge(ForwardingGatewayClientLive),
  Layer.provideMerge(Layer.mergeAll(GatewayOwnershipLive, LocalGatewayLive, ClusterStatsLive, OwnerNudgesLive)),
  // A runner whose secret key cannot open the stored gateway secrets refuses to join.
  Layer.provideMerge(ClusterLive.pipe(Layer.provide(SecretKeyCheckLive))),
  Layer.provideMerge(ReposLive),
  Layer.provideMerge(DatabaseLive)
)

/**
 * The whole service for a given configuration layer. The stream drain is built after the HTTP
 * server, so it ends open streams before the server closes (which waits for them). The tracer
 * (when `OTEL_EXPORTER_OTLP_ENDPOINT` is set) is installed first, so every runtime captured
 * below exports its spans, and it is shut down (flushed) last.
 */
export const ServiceLive = AgentStreamsDrainLive.pipe(Layer.provideMerge(HttpLive), Layer.provideMerge(CoreLive), Layer.provide(TracingLive))
