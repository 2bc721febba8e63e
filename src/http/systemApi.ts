import { z } from "zod"
import { answer, endpoints, raw } from "./Endpoint.ts"

const everyone = { kind: "public" } as const
const text = (description: string, contentType: string) => raw(description, contentType, z.string())

const Health = z.object({ ok: z.boolean(), detail: z.string().optional() })

/** The agent machine's config as JSON, with its `version`. */
export const MachineDefinition = z.looseObject({ id: z.string(), version: z.string(), states: z.record(z.string(), z.unknown()) })

/** Health, the machine definition, this document, the docs page, and metrics (no credentials). The inspector page is the inspect context's (`src/inspect/http`). */
export const systemApi = endpoints({
  healthz: { method: "get", path: "/healthz", access: everyone, summary: "Liveness", responses: { 200: answer("The process is up.", Health) } },
  readyz: {
    method: "get",
    path: "/readyz",
    access: everyone,
    summary: "Readiness",
    description: "Ready once migrations ran and every agent actor is restored.",
    responses: { 200: answer("Ready.", Health), 503: answer("Still restoring agent actors, or restoring failed (`detail`).", Health) }
  },
  getAgentMachine: {
    method: "get",
    path: "/api/v1/machines/agent",
    access: everyone,
    summary: "The agent machine's definition",
    description: "The XState config as JSON (guards, actions and actors by name), loadable in Stately's visualiser; names every state and tag `wait_for` accepts.",
    responses: { 200: answer("The machine config, with its `version`.", MachineDefinition) }
  },
  getOpenApi: {
    method: "get",
    path: "/openapi.json",
    access: everyone,
    summary: "This document (OpenAPI 3.1)",
    description: "Agents filter its operations by their role tag: `agent-main`, `agent-lead` or `agent-worker`.",
    responses: { 200: answer("The OpenAPI document.", z.looseObject({ openapi: z.string() })) }
  },
  getDocs: { method: "get", path: "/docs", access: everyone, summary: "API docs page (Swagger UI, served offline)", responses: { 200: text("The docs page.", "text/html") } },
  getDocsAsset: {
    method: "get",
    path: "/docs/{asset}",
    access: everyone,
    summary: "A script or stylesheet of the docs page",
    params: z.object({ asset: z.string().meta({ example: "swagger-ui-bundle.js" }) }),
    responses: { 200: text("The asset.", "application/javascript") },
    failures: [404]
  },
  getMetrics: {
    method: "get",
    path: "/metrics",
    access: everyone,
    summary: "Prometheus metrics",
    description:
      "Text exposition format: agents by state, gateway RPC latency by method, RPC errors by code, reconnects, config patches, event-to-persist latency, group commit batch sizes and commit times, and the Node process metrics.",
    responses: { 200: text("Metrics.", "text/plain; version=0.0.4") },
    unlogged: true
  }
})
