import { z } from "zod"
import type { ZodOpenApiPathsObject } from "zod-openapi"
import { publicOperation } from "./legacyOperations.ts"

const text = (description: string, contentType: string) => ({ description, content: { [contentType]: { schema: z.string() } } })

const Health = z.object({ ok: z.boolean(), detail: z.string().optional() })

/** Health, the machine definition, this document, the docs and visualiser pages, and metrics (no credentials). */
export const systemPaths: ZodOpenApiPathsObject = {
  "/healthz": {
    get: publicOperation({
      operationId: "healthz",
      summary: "Liveness",
      responses: { "200": { description: "The process is up.", content: { "application/json": { schema: Health } } } }
    })
  },
  "/readyz": {
    get: publicOperation({
      operationId: "readyz",
      summary: "Readiness",
      description: "Ready once migrations ran and every agent actor is restored.",
      responses: {
        "200": { description: "Ready.", content: { "application/json": { schema: Health } } },
        "503": { description: "Still restoring agent actors, or restoring failed (`detail`).", content: { "application/json": { schema: Health } } }
      }
    })
  },
  "/api/v1/machines/agent": {
    get: publicOperation({
      operationId: "getAgentMachine",
      summary: "The agent machine's definition",
      description: "The XState config as JSON (guards, actions and actors by name), loadable in Stately's visualiser; names every state and tag `wait_for` accepts.",
      responses: {
        "200": {
          description: "The machine config, with its `version`.",
          content: { "application/json": { schema: z.looseObject({ id: z.string(), version: z.string(), states: z.record(z.string(), z.unknown()) }) } }
        }
      }
    })
  },
  "/openapi.json": {
    get: publicOperation({
      operationId: "getOpenApi",
      summary: "This document (OpenAPI 3.1)",
      description: "Agents filter its operations by their role tag: `agent-main`, `agent-lead` or `agent-worker`.",
      responses: { "200": { description: "The OpenAPI document.", content: { "application/json": { schema: z.looseObject({ openapi: z.string() }) } } } }
    })
  },
  "/docs": {
    get: publicOperation({
      operationId: "getDocs",
      summary: "API docs page (Swagger UI, served offline)",
      responses: { "200": text("The docs page.", "text/html") }
    })
  },
  "/docs/{asset}": {
    get: publicOperation({
      operationId: "getDocsAsset",
      summary: "A script or stylesheet of the docs page",
      requestParams: { path: z.object({ asset: z.string().meta({ example: "swagger-ui-bundle.js" }) }) },
      responses: { "200": text("The asset.", "application/javascript") },
      failures: [404]
    })
  },
  "/inspect": {
    get: publicOperation({
      operationId: "getInspector",
      summary: "The visualiser page",
      description: "Draws the agent statechart and follows one agent live; it asks for the admin token and reads everything through the admin API.",
      responses: { "200": text("The visualiser page.", "text/html") }
    })
  },
  "/inspect/assets/{name}": {
    get: publicOperation({
      operationId: "getInspectorAsset",
      summary: "A script or stylesheet of the visualiser",
      requestParams: { path: z.object({ name: z.string().meta({ example: "main.js" }) }) },
      responses: { "200": text("The asset.", "text/javascript") },
      failures: [404]
    })
  },
  "/metrics": {
    get: publicOperation({
      operationId: "getMetrics",
      summary: "Prometheus metrics",
      description:
        "Text exposition format: agents by state, gateway RPC latency by method, RPC errors by code, reconnects, config patches, event-to-persist latency, and the Node process metrics.",
      responses: { "200": text("Metrics.", "text/plain; version=0.0.4") }
    })
  }
}
