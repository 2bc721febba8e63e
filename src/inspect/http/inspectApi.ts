import { z } from "zod"
import { endpoints, raw } from "../../http/Endpoint.ts"

const everyone = { kind: "public" } as const

/**
 * The inspector (docs/operations.md §3.6): `GET /inspect` is the page (the fleet view, and one
 * agent's statechart at `#agent=<id>`), `GET /inspect/assets/{name}` its scripts, stylesheet and
 * ELK. Public: they hold no data; the page asks for the admin token and reads everything through
 * the admin API.
 */
export const inspectApi = endpoints({
  getInspector: {
    method: "get",
    path: "/inspect",
    access: everyone,
    summary: "The inspector page (fleet view and agent statechart)",
    description:
      "Opens on the fleet view (counts by state, problems, agents, sync jobs, each gateway's runner) and draws one agent's statechart live at `#agent=<id>`; it asks for the admin token and reads everything through the admin API.",
    responses: { 200: raw("The inspector page.", "text/html", z.string()) }
  },
  getInspectorAsset: {
    method: "get",
    path: "/inspect/assets/{name}",
    access: everyone,
    summary: "A script or stylesheet of the inspector",
    params: z.object({ name: z.string().meta({ example: "main.js" }) }),
    responses: { 200: raw("The asset.", "text/javascript", z.string()) },
    failures: [404]
  }
})
