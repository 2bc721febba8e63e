// Import rules checked by `npm run check` (dependency-cruiser): no cycles, pure machines, an HTTP
// kernel that never reaches the gateway, and layers that point one way (observability/config at
// the bottom, then the gateway client, then the agents, then the cluster, then the contexts). See
// docs/architecture.md §1 and §10.1.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "Import cycles hide the direction of dependencies.", from: {}, to: { circular: true } },
    {
      name: "machines-are-pure",
      severity: "error",
      comment: "machines/ holds pure XState definitions: no src/, effect, pg, ws, nunjucks or node builtins.",
      from: { path: "^machines/" },
      to: { path: "^src/|node_modules/(effect|@effect|pg|ws|nunjucks)/|^node:", dependencyTypesNot: ["type-only"] }
    },
    {
      name: "machines-no-node-builtins",
      severity: "error",
      from: { path: "^machines/" },
      to: { dependencyTypes: ["core"] }
    },
    {
      name: "http-kernel-not-gateway",
      severity: "error",
      comment: "HTTP handlers send events and read snapshots; gateway work belongs to the contexts' services.",
      from: { path: "^src/http/" },
      to: { path: "^src/gateway/" }
    },
    {
      name: "observability-config-at-the-bottom",
      severity: "error",
      comment: "Logs, metrics, traces and configuration serve every layer and depend on none of them.",
      from: { path: "^src/(observability|config)/" },
      to: { path: "^src/", pathNot: "^src/(observability|config)/" }
    },
    {
      name: "database-below-the-store",
      severity: "error",
      comment: "The SQL client, the embedded Postgres and the migrations know no repository, agent or context.",
      from: { path: "^src/database/" },
      to: { path: "^src/", pathNot: "^src/(database|observability|config)/" }
    },
    {
      name: "gateway-below-the-contexts",
      severity: "error",
      comment: "The gateway client knows the protocol, not the agents, the store or any context.",
      from: { path: "^src/gateway/" },
      to: { path: "^src/", pathNot: "^src/(gateway|observability|config)/" }
    },
    {
      name: "agents-below-the-contexts",
      severity: "error",
      comment: "The actor system and its programs serve the contexts (cluster, fleet, sync, coordination, inbox, messages, streams, liveness, HTTP), never the reverse. The agents' own HTTP surface (src/agents/http/) is a context above them.",
      from: { path: "^src/agents/", pathNot: "^src/agents/http/" },
      to: { path: "^src/(cluster|fleet|sync|coordination|inbox|messages|streams|liveness|boards|http|inspect|cli|agents/http)/" }
    },
    {
      name: "cluster-between-agents-and-contexts",
      severity: "error",
      comment: "The cluster routes to the agents and hosts them per gateway; the contexts use it (ownership, the routed AgentSystem), never the reverse. The cluster's own HTTP surface (src/cluster/http/) is a context above it.",
      from: { path: "^src/cluster/", pathNot: "^src/cluster/http/" },
      to: { path: "^src/(fleet|sync|coordination|inbox|messages|streams|boards|http|inspect|cli|agents/http|cluster/http)/" }
    },
    {
      name: "sql-in-the-store",
      severity: "error",
      comment: "SQL runs in the repositories (src/store) and the database layer (src/database): a context asks a repository. A type-only import, and the SqlError family, are fine anywhere.",
      // Known exceptions, each to shrink rather than copy (docs/architecture.md §10.1): statements of
      // their own (cluster bookkeeping, the message resume sweep, the state-count metric), a
      // transaction around repository calls (updateAgent, AgentInbox, GroupCommit), the client
      // handed to a store read (RoutedAgentSystem) and the LISTEN connection (AgentChangeFeed).
      from: {
        path: "^src/",
        pathNot: [
          "^src/(store|database)/",
          "^src/cluster/(ActivationDriver|ClusterMessageJanitor|RunnerReaper|clusterView|RoutedAgentSystem)[.]ts$",
          "^src/messages/MessageLedger[.]ts$",
          "^src/observability/agentMetrics[.]ts$",
          "^src/agents/updateAgent[.]ts$",
          "^src/inbox/AgentInbox[.]ts$",
          "^src/snapshots/GroupCommit[.]ts$",
          "^src/streams/AgentChangeFeed[.]ts$"
        ]
      },
      to: { path: "node_modules/@effect/sql(-pg)?/", pathNot: "node_modules/@effect/sql/.*SqlError", dependencyTypesNot: ["type-only"] }
    },
    {
      name: "src-not-tests",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench)/" }
    }
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/inspect/client/" }
  }
}
