import { z } from "zod"
import { GatewayView } from "./viewSchemas.ts"

/** Response schemas of `/api/v1/gateways` administration and runtime queries (OpenAPI only). */

const runtime = z
  .object({ server_version: z.string(), protocol: z.int(), version_checked: z.boolean() })
  .nullable()
  .meta({ description: "What the runtime check found; null while pairing, or when nothing was checked." })

const pairing = z
  .object({ request_id: z.string().nullable(), detail: z.string() })
  .nullable()
  .meta({ description: "Set while this service's device awaits approval on a remote gateway (answer 202)." })

export const RegisteredGateway = GatewayView.extend({
  main_agent_id: z.uuid().nullable().meta({ description: "The gateway-main agent; null while pairing." }),
  runtime,
  pairing
}).meta({ id: "RegisteredGateway" })

export const UpdatedGateway = GatewayView.extend({ runtime, pairing }).meta({ id: "UpdatedGateway" })

export const DeletingGateway = GatewayView.extend({
  agents_remaining: z.int().meta({ description: "Agents still to be removed from the gateway." })
}).meta({ id: "DeletingGateway" })

export const GatewayDeleted = z.object({ ok: z.literal(true), deleted: z.literal(true) })

/** A `sessions.list` row as the gateway returns it (docs/gateway-protocol.md §5); passed through. */
export const GatewaySession = z.looseObject({ key: z.string().meta({ example: "agent:mc-gateway-3f0c9a2e:main" }) }).meta({ id: "GatewaySession" })

export const GatewayStatus = z
  .object({
    connected: z.boolean(),
    gateway_url: z.string(),
    server_version: z.string().nullable(),
    protocol: z.int().nullable(),
    version_checked: z.boolean().nullable(),
    sessions_count: z.int().nullable(),
    sessions: z.array(GatewaySession).nullable().meta({ description: "Null when not connected (unknown, not empty)." }),
    main_session: GatewaySession.nullable(),
    main_session_error: z.string().nullable(),
    error: z.string().nullable().meta({ description: "Why `connected` is false; null when connected." }),
    pairing: z.object({ request_id: z.string().nullable() }).nullable()
  })
  .meta({ id: "GatewayStatus", description: "Mission Control's `GatewaysStatusResponse`, plus version, protocol and pairing." })

export const GatewaySessions = z.object({ sessions: z.array(GatewaySession), main_session: GatewaySession.nullable() })

export const GatewaySessionOne = z.object({ session: GatewaySession })

export const GatewayHistory = z.object({ history: z.array(z.unknown()).meta({ description: "`chat.history` rows, oldest first." }) })

export const MessageAccepted = z.object({
  ok: z.literal(true),
  idempotency_key: z.string(),
  run_id: z.string(),
  status: z.string().meta({ description: "`in_flight` when the same key and message were sent before." })
})

export const GatewayCommands = z.object({
  protocol_version: z.int(),
  methods: z.array(z.string()),
  events: z.array(z.string())
})
