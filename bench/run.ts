/**
 * `npm run bench`: every benchmark in turn, each printing its own figures; `npm run bench -- NAME…`
 * runs only those named (e.g. `npm run bench -- heartbeatThroughput`).
 */
const benchmarks: Record<string, () => Promise<unknown>> = {
  provisionTen: async () => (await import("./provisionTen.ts")).provisionTen(),
  syncThousand: async () => (await import("./syncThousand.ts")).syncThousand(),
  heartbeatToSse: async () => (await import("./heartbeatToSse.ts")).heartbeatToSse(),
  fleetScale: async () => (await import("./fleetScale.ts")).fleetScale(),
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
const chosen = args.filter((arg, i) => !arg.startsWith("-") && !(args[i - 1]?.startsWith("--") === true && !args[i - 1]!.includes("=")))
const unknown = chosen.filter((name) => !(name in benchmarks))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}`)
  process.exit(2)
}
for (const name of chosen.length > 0 ? chosen : Object.keys(benchmarks)) await benchmarks[name]!()
