import { z } from "zod"
import type { Shape } from "../../http/Endpoint.ts"
import type { CheckOutcome, RegisteredGateway as Registered } from "../GatewayAdmin.ts"
import type { GatewayRow } from "../../store/GatewayRepo.ts"
import { Stamps, stampsOf, time } from "../../http/timestamps.ts"

export const GatewayView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    url: z.string().meta({ description: "`wss://`, or `ws://` to loopback." }),
    workspace_root: z.string(),
    status: z.enum(["active", "deleting"]),
    deleting_since: time.nullable(),
    ...Stamps
  })
  .meta({ id: "Gateway", description: "A gateway; its token is stored encrypted and never returned." })

/** A gateway as the API shows it; its token is never returned. */
export const gatewayView = (row: GatewayRow): Shape<typeof GatewayView> => ({
  id: row.id,
  name: row.name,
  url: row.url,
  workspace_root: row.workspaceRoot,
  status: row.deletingAt === null ? "active" : "deleting",
  deleting_since: row.deletingAt === null ? null : row.deletingAt.toISOString(),
  ...stampsOf(row)
})

const runtime = z
  .object({ server_version: z.string(), protocol: z.int(), version_checked: z.boolean() })
  .nullable()
  .meta({ description: "What the runtime check found; null while pairing, or when nothing was checked." })

const pairing = z
  .object({ request_id: z.string().nullable(), detail: z.string() })
  .nullable()
  .meta({ description: "Set while this service's device awaits approval on a remote gateway (answer 202)." })

export const UpdatedGateway = GatewayView.extend({ runtime, pairing }).meta({ id: "UpdatedGateway" })

export const RegisteredGateway = GatewayView.extend({
  main_agent_id: z.uuid().nullable().meta({ description: "The gateway-main agent; null while pairing." }),
  runtime,
  pairing
}).meta({ id: "RegisteredGateway" })

export const DeletingGateway = GatewayView.extend({
  agents_remaining: z.int().meta({ description: "Agents still to be removed from the gateway." })
}).meta({ id: "DeletingGateway" })

export const GatewayDeleted = z.object({ ok: z.literal(true), deleted: z.literal(true) })

/** What the runtime check found, or the pairing to approve (with the command that approves it). */
export const checkView = (check: CheckOutcome | null): Pick<Shape<typeof UpdatedGateway>, "runtime" | "pairing"> =>
  check === null
    ? { runtime: null, pairing: null }
    : check.state === "ready"
      ? { runtime: { server_version: check.runtime.serverVersion, protocol: check.runtime.protocol, version_checked: check.runtime.versionChecked }, pairing: null }
      : {
          runtime: null,
          pairing: {
            request_id: check.requestId ?? null,
            detail: `${check.message}; approve it on the gateway host (openclaw devices approve ${check.requestId ?? "<request id>"}), then POST this gateway's /check`
          }
        }

export const registeredView = (registered: Registered): Shape<typeof RegisteredGateway> => ({
  ...gatewayView(registered.gateway),
  main_agent_id: registered.mainAgentId,
  ...checkView(registered.check)
})
