// Preloaded into the service by bench/fleetScale.ts (`node --import`): on SIGUSR2 it prints the
// number of active timers to stderr as `[timers] <n>`.
process.on("SIGUSR2", () => {
  process.stderr.write(`[timers] ${process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length}\n`)
})
