import { z } from "zod"
import type { Shape } from "../../http/Endpoint.ts"
import type { GatewayStatus as Status } from "../inspectGateway.ts"

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

/** Mission Control's gateway status shape (docs/operations.md §6.7), plus the probe's version, protocol and pairing. */
export const statusView = (status: Status): Shape<typeof GatewayStatus> => ({
  connected: status.connected,
  gateway_url: status.gatewayUrl,
  server_version: status.serverVersion,
  protocol: status.protocol,
  version_checked: status.versionChecked,
  sessions_count: status.sessions === null ? null : status.sessions.length,
  sessions: status.sessions,
  main_session: status.mainSession,
  main_session_error: status.mainSessionError,
  error: status.error,
  pairing: status.pairing === null ? null : { request_id: status.pairing.requestId }
})

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
