import { defineConfig } from "vitest/config"

// Two projects: `unit` needs nothing running; `integration` gets the machine's Postgres, the
// embedded default and a real OpenClaw gateway started once by the global setup.
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
          globalSetup: ["test/support/globalSetup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One real gateway and one Postgres serve every file: run files one at a time.
          poolOptions: { forks: { singleFork: true } }
        }
      }
    ]
  }
})
