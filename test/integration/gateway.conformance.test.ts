import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll, describe, inject } from "vitest"
import { startOpenClawGateway, type RealGateway } from "../support/openclawGateway.ts"
import { defineConformanceCases } from "../support/simulator/conformanceCases.ts"

// The same cases as test/gateway/simulator.conformance.test.ts, against a real gateway; what
// passes here and there keeps the simulator honest. Its own gateway: the shared one, after the
// other suites' hundreds of creates, patches and deletes, once answered a config.patch with
// UNAVAILABLE "a recovery restart is required" and restarted, which these cases must not meet.
describe.skipIf(inject("realGateway") === null)("real OpenClaw gateway: conformance", () => {
  let gateway: RealGateway | undefined
  beforeAll(async () => {
    gateway = await startOpenClawGateway()
  })
  afterAll(async () => {
    await gateway?.stop()
  })
  defineConformanceCases(() => {
    if (gateway === undefined) throw new Error("the conformance gateway did not start")
    const file = join(gateway.stateDir, "openclaw.json")
    // An operator's edit: read the file, change it, write it back in place.
    const editConfigFile = async (edit: (config: Record<string, unknown>) => void) => {
      const config = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>
      edit(config)
      await writeFile(file, `${JSON.stringify(config, null, 2)}\n`)
    }
    return { url: gateway.url, token: gateway.token, editConfigFile }
  })
})
