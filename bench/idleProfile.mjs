// Preloaded into the service by bench/fleetScale.ts (`node --import`) when FLEET_CPU_PROF is set:
// SIGTTIN starts V8's CPU profiler in-process (a sample every 2 ms), SIGTTOU stops it and writes the profile as
// `idle.cpuprofile` into FLEET_CPU_PROF (the format of `node --cpu-prof`, read by
// bench/processStats.ts), so a profile covers an idle window and not the start-up.
import { writeFileSync } from "node:fs"
import { Session } from "node:inspector"
import path from "node:path"

const dir = process.env["FLEET_CPU_PROF"]
if (dir !== undefined && dir !== "") {
  const session = new Session()
  session.connect()
  process.on("SIGTTIN", () => {
    session.post("Profiler.enable", () => session.post("Profiler.setSamplingInterval", { interval: 2_000 }, () => session.post("Profiler.start")))
  })
  process.on("SIGTTOU", () => {
    session.post("Profiler.stop", (error, result) => {
      if (error === null) writeFileSync(path.join(dir, "idle.cpuprofile"), JSON.stringify(result.profile))
      process.stderr.write(`[profile] ${error === null ? "written" : String(error)}\n`)
    })
  })
}
