// Preloaded into the service by bench/fleetScale.ts (`node --import`): on SIGUSR2 it prints the
// number of active timers to stderr as `[timers] <n>`, and the process's memory as
// `[memory] rss=… heapTotal=… heapUsed=… external=… arrayBuffers=…; <space>=<used>/<size> …` (MiB).
import { memoryUsage } from "node:process"
import { getHeapSpaceStatistics } from "node:v8"

process.on("SIGUSR2", () => {
  const memory = memoryUsage()
  const mib = (bytes) => (bytes / 1048576).toFixed(1)
  process.stderr.write(`[memory] rss=${mib(memory.rss)} heapTotal=${mib(memory.heapTotal)} heapUsed=${mib(memory.heapUsed)} external=${mib(memory.external)} arrayBuffers=${mib(memory.arrayBuffers)}; ${getHeapSpaceStatistics()
    .filter((space) => space.space_size > 1048576)
    .map((space) => `${space.space_name}=${mib(space.space_used_size)}/${mib(space.space_size)}`)
    .join(" ")}\n`)
  process.stderr.write(`[timers] ${process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length}\n`)
})
