import { defineConfig } from "vitest/config"

// One real gateway and one Postgres serve every file of an integration project: run files one at a time.
const integration = {
  globalSetup: ["test/support/globalSetup.ts"],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  poolOptions: { forks: { singleFork: true } }
}

// The conformance suite and the real-gateway lifecycle suites, run once more against the previous
// minor OpenClaw release (docs/gateway-protocol.md §11).
const SECOND_RELEASE_SUITES = [
  "test/integration/gateway.conformance.test.ts",
  "test/integration/realGateway.smoke.test.ts",
  "test/integration/agentLifecycle.test.ts",
  "test/integration/gatewayLifecycle.test.ts",
  "test/integration/liveness.test.ts",
  "test/integration/adopt.test.ts"
]

// Three projects: `unit` needs nothing running; `integration` gets the machine's Postgres, the
// embedded default and a real OpenClaw gateway (the pinned release) started once by the global
// setup; `integration-prev` runs the suites above on the previous release, after the other two
// (`groupOrder`), so that two gateways never serve tests at once.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**", "test/**/*.pg.test.ts", "node_modules/**"],
          testTimeout: 20_000
        }
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/**/*.pg.test.ts"],
          ...integration
        }
      },
      {
        test: {
          name: "integration-prev",
          include: SECOND_RELEASE_SUITES,
          env: { OPENCLAW_RELEASE: "prev" },
          sequence: { groupOrder: 1 },
          ...integration
        }
      }
    ]
  }
})
