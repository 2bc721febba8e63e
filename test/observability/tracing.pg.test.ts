import { HttpServer } from "@effect/platform"
import { Effect, Layer, Logger, ManagedRuntime, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { jsonLogger } from "../../src/observability/jsonLogger.ts"
import { ServiceLive } from "../../src/ServiceLayer.ts"
import { createTestDatabase } from "../support/database.ts"
import { TEST_ADMIN_TOKEN } from "../support/inProcessService.ts"
import { startGatewaySimulator, type GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"
import { startOtlpReceiver, type ReceivedSpan } from "./otlpReceiver.ts"

/** The spans of `spans` from `span` up to its root, nearest first. */
const ancestry = (spans: ReadonlyArray<ReceivedSpan>, span: ReceivedSpan) => {
  const chain: Array<ReceivedSpan> = []
  for (let current: ReceivedSpan | undefined = span; current !== undefined; current = spans.find((other) => other.spanId === current?.parentSpanId)) {
    chain.push(current)
  }
  return chain
}

describe("traces over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT set; in-process service, simulated gateway)", () => {
  let db: { url: string; drop: () => Promise<void> }
  let simulator: GatewaySimulator
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>
  let runtime: ManagedRuntime.ManagedRuntime<unknown, unknown>
  let url: string
  /** Every JSON log line the service wrote. */
  const lines: Array<Record<string, unknown>> = []

  const api = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: (await response.json()) as { id: string; state?: string } }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    simulator = await startGatewaySimulator()
    receiver = await startOtlpReceiver()
    // The service as `npm start` builds it (tracer from the config), its logs captured as JSON lines.
    const layer = ServiceLive.pipe(
      Layer.provide(
        AppConfigTest({
          port: 0,
          databaseUrl: Option.some(Redacted.make(db.url)),
          adminToken: Option.some(Redacted.make(TEST_ADMIN_TOKEN)),
          otlpEndpoint: Option.some(receiver.url),
          otelServiceName: "switchyard-test"
        })
      ),
      Layer.provide(Logger.replace(Logger.defaultLogger, Logger.map(jsonLogger, (line) => void lines.push(JSON.parse(line) as Record<string, unknown>))))
    )
    runtime = ManagedRuntime.make(layer) as ManagedRuntime.ManagedRuntime<unknown, unknown>
    const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
    url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://unix"
  })

  afterAll(async () => {
    await runtime?.dispose()
    await simulator?.stop()
    await receiver?.stop()
    await db?.drop()
  })

  it("exports one trace for POST /api/v1/agents: the request, Agents.apply, the agents.create RPC and the snapshot writes, and its logs carry that trace id", async () => {
    const gateway = await api("POST", "/api/v1/gateways", { name: "Traced", url: simulator.url, token: simulator.token, workspace_root: "/srv/gw/workspaces" })
    expect(gateway.status).toBe(201)
    const board = await api("POST", "/api/v1/boards", { name: "Traced", gateway_id: gateway.body.id })
    expect(board.status).toBe(201)

    const created = await api("POST", "/api/v1/agents?wait_for=provisioning.awaiting&timeout_ms=30000", { name: "ada", board_id: board.body.id })
    expect(created.status).toBe(201)
    expect(created.body.state).toBe("provisioning.awaiting")
    const agentId = created.body.id

    // The request's span is the root of its trace; the SDK exports in batches, so poll.
    const requestSpan = () =>
      receiver.spans.find((span) => span.name === "http.server POST" && span.attributes["url.path"] === "/api/v1/agents" && span.parentSpanId === undefined)
    await expect.poll(() => requestSpan()?.traceId, { timeout: 20_000, interval: 200 }).toMatch(/^[0-9a-f]{32}$/)
    const root = requestSpan()!
    expect(root.serviceName).toBe("switchyard-test")
    const inTrace = () => receiver.spans.filter((span) => span.traceId === root.traceId)
    const named = (name: string) => inTrace().filter((span) => span.name === name && span.attributes["agent_id"] === agentId)

    await expect
      .poll(() => ["Agents.apply", "gateway.agents.create", "Agents.persistSnapshot"].filter((name) => named(name).length === 0), { timeout: 20_000, interval: 200 })
      .toEqual([])

    // Each span descends from the request (one trace, linked by parents, not by chance).
    const [apply] = named("Agents.apply")
    const [rpc] = named("gateway.agents.create")
    expect(ancestry(inTrace(), apply!).at(-1)?.spanId).toBe(root.spanId)
    expect(ancestry(inTrace(), rpc!).map((span) => span.name)).toContain("Agents.apply")
    expect(rpc!.attributes).toMatchObject({ "rpc.method": "agents.create", gateway_id: gateway.body.id, agent_id: agentId })
    for (const write of named("Agents.persistSnapshot")) expect(ancestry(inTrace(), write).at(-1)?.spanId).toBe(root.spanId)
    // No other trace holds this agent's apply: the program did not start a trace of its own.
    expect(receiver.spans.filter((span) => span.name === "Agents.apply" && span.attributes["agent_id"] === agentId && span.traceId !== root.traceId)).toEqual([])

    // The request's log line and the program's log lines name the exported trace.
    const logged = lines.filter((line) => line["trace_id"] === root.traceId)
    expect(logged.length).toBeGreaterThan(0)
    expect(lines.filter((line) => line["agent_id"] === agentId && line["trace_id"] !== undefined).every((line) => line["trace_id"] === root.traceId)).toBe(true)
    expect(receiver.rejected).toEqual([])
  })
})
