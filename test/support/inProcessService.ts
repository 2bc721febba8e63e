import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { HttpServer } from "@effect/platform"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import { AgentSystem } from "../../src/agents/AgentSystem.ts"
import { AppConfigTest, type AppConfigShape } from "../../src/config/AppConfig.ts"
import { GatewayClient } from "../../src/gateway/GatewayClient.ts"
import { ServiceLive } from "../../src/ServiceLayer.ts"

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789"

/**
 * The whole service in this process (same layers as `npm start`) on a free port, with the given
 * database URL and config overrides. `runtime` reaches its services (agent system, gateway
 * client stats) for assertions; `api` is an admin-authenticated JSON client.
 */
export const startInProcessService = async (databaseUrl: string, overrides: Partial<AppConfigShape> = {}) => {
  const layer = ServiceLive.pipe(
    Layer.provide(
      AppConfigTest({
        port: 0,
        databaseUrl: Option.some(Redacted.make(databaseUrl)),
        adminToken: Option.some(Redacted.make(TEST_ADMIN_TOKEN)),
        ...overrides
      })
    ),
    // Request logs would drown test output; warnings and errors still show.
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
  const runtime = ManagedRuntime.make(layer)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
  const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://unix"
  const api = async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as any }
  }
  return {
    url,
    api,
    runtime,
    agents: () => runtime.runPromise(AgentSystem),
    gatewayStats: () => runtime.runPromise(Effect.flatMap(GatewayClient, (client) => client.stats)),
    stop: () => runtime.dispose()
  }
}

export type InProcessService = Awaited<ReturnType<typeof startInProcessService>>

/**
 * Registers `gateway` (a simulator or a real one) with a fresh workspace root, and one board on
 * it; returns both ids.
 */
export const registerGatewayAndBoard = async (service: InProcessService, gateway: { url: string; token: string }, name: string) => {
  const created = await service.api("POST", "/api/v1/gateways", {
    name,
    url: gateway.url,
    token: gateway.token,
    workspace_root: mkdtempSync(path.join(tmpdir(), `sy-${name}-`))
  })
  const board = await service.api("POST", "/api/v1/boards", { name, gateway_id: created.body.id })
  return { gatewayId: created.body.id as string, boardId: board.body.id as string }
}
