import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import { AgentSystem } from "./src/agents/AgentSystem.ts"
import { GatewayOwnership } from "./src/cluster/GatewayOwnership.ts"
import { AppConfigTest } from "./src/config/AppConfig.ts"
import { ServiceLive } from "./src/ServiceLayer.ts"
import { createTestDatabase } from "./test/support/database.ts"

const db = await createTestDatabase()
const layer = ServiceLive.pipe(Layer.provide(AppConfigTest({ port: 0, databaseUrl: Option.some(Redacted.make(db.url)), adminToken: Option.some(Redacted.make("test-admin-token-0123456789")) })), Layer.provide(Logger.minimumLogLevel(LogLevel.Debug)))
const runtime = ManagedRuntime.make(layer)
const t0 = Date.now()
await runtime.runPromise(Effect.void)
console.log("built in", Date.now() - t0)
for (let i = 0; i < 20; i++) {
  const r = await runtime.runPromise(Effect.flatMap(AgentSystem, (s) => s.readiness))
  const o = await runtime.runPromise(Effect.map(GatewayOwnership, (s) => s.ownedShards()))
  console.log(Date.now() - t0, r, o)
  if (r.state === "ready") break
  await new Promise((r) => setTimeout(r, 500))
}
await runtime.dispose()
await db.drop()
