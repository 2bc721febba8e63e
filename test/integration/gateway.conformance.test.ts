import { describe, inject } from "vitest"
import { defineConformanceCases } from "../support/simulator/conformanceCases.ts"

// The same cases as test/gateway/simulator.conformance.test.ts, against the real gateway the
// integration global setup starts; what passes here and there keeps the simulator honest.
const realGateway = inject("realGateway")

describe.skipIf(realGateway === null)("real OpenClaw gateway: conformance", () => {
  defineConformanceCases(() => {
    if (realGateway === null) throw new Error("no real gateway (SWITCHYARD_SKIP_REAL_GATEWAY=1)")
    return realGateway
  })
})
