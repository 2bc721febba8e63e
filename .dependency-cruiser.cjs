// Import rules checked by `npm run check` (dependency-cruiser): no cycles, pure machines, and an
// HTTP kernel that never reaches the gateway. See docs/architecture.md §1 for the layering.
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
