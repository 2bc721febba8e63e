/**
 * OpenClaw gateway protocol 4 wire schemas (docs/gateway-protocol.md §1–§6, observed on openclaw 2026.9.6).
 *
 * Only the fields Switchyard reads are declared; every object is `loose` so that new gateway
 * fields never break decoding. Types are inferred from these schemas, never written twice.
 */
import { z } from "zod"

export const PROTOCOL_VERSION = 4

/** Client identity for a co-located backend: the no-pairing loopback path (docs/gateway-protocol.md §0.3). */
export const BACKEND_CLIENT = { id: "gateway-client", mode: "backend" } as const

/** Scopes Switchyard asks for; `operator.admin` covers agent, file and config writes (docs/gateway-protocol.md §4). */
export const OPERATOR_SCOPES = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.approvals",
  "operator.pairing"
] as const

export const ErrorShape = z.looseObject({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  retryable: z.boolean().optional(),
  retryAfterMs: z.number().optional()
})
export type ErrorShape = z.infer<typeof ErrorShape>

export const RequestFrame = z.object({
  type: z.literal("req"),
  id: z.string().min(1),
  method: z.string().min(1),
  params: z.unknown().optional()
})
export type RequestFrame = z.infer<typeof RequestFrame>

export const ResponseFrame = z.looseObject({
  type: z.literal("res"),
  id: z.string(),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: ErrorShape.optional()
})
export type ResponseFrame = z.infer<typeof ResponseFrame>

export const EventFrame = z.looseObject({
  type: z.literal("event"),
  event: z.string(),
  payload: z.unknown().optional(),
  seq: z.number().optional()
})
export type EventFrame = z.infer<typeof EventFrame>

export const ServerFrame = z.discriminatedUnion("type", [ResponseFrame, EventFrame])
export type ServerFrame = z.infer<typeof ServerFrame>

export const ConnectChallenge = z.looseObject({ nonce: z.string(), ts: z.number() })

/**
 * `error.details` of a `connect` refused with `NOT_PAIRED` because the device waits for approval
 * (docs/gateway-protocol.md §2.6; `reason` is `not-paired` or an upgrade such as
 * `scope-upgrade`).
 */
export const PairingRequiredDetails = z.looseObject({
  code: z.literal("PAIRING_REQUIRED"),
  requestId: z.string().optional(),
  deviceId: z.string().optional(),
  reason: z.string().optional()
})

export const HelloOk = z.looseObject({
  type: z.literal("hello-ok"),
  protocol: z.number(),
  server: z.looseObject({ version: z.string(), connId: z.string().optional() }),
  features: z
    .looseObject({ methods: z.array(z.string()), events: z.array(z.string()) })
    .optional(),
  auth: z.looseObject({ scopes: z.array(z.string()), deviceToken: z.string().optional() }),
  policy: z.looseObject({ tickIntervalMs: z.number(), maxPayload: z.number().optional() })
})
export type HelloOk = z.infer<typeof HelloOk>

// ---- method results (docs/gateway-protocol.md §5) ----

/**
 * An array as large as the fleet (`agents.list`, `health`: one entry per gateway agent, 100,000
 * and more), checked entry by entry with `isEntry` and passed on as is: a zod object schema
 * would copy every entry, and these replies come every reconciliation (docs/operations.md §8).
 * Only the fields Switchyard reads are checked; others are kept, unchecked.
 */
const fleetArray = <T>(isEntry: (entry: unknown) => entry is T, what: string) =>
  z.custom<ReadonlyArray<T>>((value) => Array.isArray(value) && value.every(isEntry), { error: `expected an array of ${what}` })

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)
const optionalString = (value: unknown): boolean => value === undefined || typeof value === "string"

/** One `agents.list` entry: only `id` is read (docs/gateway-protocol.md §5). */
export interface ListedAgent {
  readonly id: string
  readonly name?: string | undefined
  readonly workspace?: string | undefined
}
const isListedAgent = (entry: unknown): entry is ListedAgent =>
  isRecord(entry) && typeof entry["id"] === "string" && optionalString(entry["name"]) && optionalString(entry["workspace"])

export const AgentsListResult = z.looseObject({
  defaultId: z.string().optional(),
  agents: fleetArray(isListedAgent, "agents {id: string}")
})

export const AgentsCreateResult = z.looseObject({ ok: z.literal(true), agentId: z.string(), workspace: z.string().optional() })
export const AgentsUpdateResult = z.looseObject({ ok: z.literal(true), agentId: z.string() })
export const AgentsDeleteResult = z.looseObject({ ok: z.literal(true), agentId: z.string() })

export const AgentFileEntry = z.looseObject({
  name: z.string(),
  missing: z.boolean().optional(),
  size: z.number().optional()
})
export const AgentsFilesListResult = z.looseObject({ agentId: z.string(), files: z.array(AgentFileEntry) })

export const AgentFile = z.looseObject({
  name: z.string(),
  missing: z.boolean().optional(),
  hash: z.string().optional(),
  content: z.string().optional()
})
export const AgentsFilesGetResult = z.looseObject({ agentId: z.string(), file: AgentFile })
export const AgentsFilesSetResult = z.looseObject({ ok: z.literal(true), file: AgentFile })

export const ConfigGetResult = z.looseObject({
  hash: z.string(),
  exists: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).nullish(),
  parsed: z.record(z.string(), z.unknown()).nullish()
})
/** A patch that changes nothing answers `{ok, noop:true}` without a new `hash`. */
export const ConfigPatchResult = z.looseObject({ ok: z.literal(true), hash: z.string().optional(), noop: z.boolean().optional() })

export const SessionsPatchResult = z.looseObject({ ok: z.literal(true), key: z.string() })
export const SessionsResetResult = z.looseObject({ ok: z.literal(true), key: z.string() })
export const SessionsDeleteResult = z.looseObject({ ok: z.literal(true), deleted: z.boolean().optional() })
export const SessionsListResult = z.looseObject({
  sessions: z.array(z.looseObject({ key: z.string(), agentId: z.string().optional() }))
})

export const ChatSendResult = z.looseObject({ runId: z.string(), status: z.string() })
export const ChatHistoryResult = z.looseObject({
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown() }))
})

/** The heartbeat `health` reports per agent (docs/gateway-protocol.md §9): `everyMs` null when disabled. */
export const HealthHeartbeat = z.looseObject({ enabled: z.boolean(), every: z.string(), everyMs: z.number().nullable() })
export type HealthHeartbeat = z.infer<typeof HealthHeartbeat>

/** One agent of a `health` sample: only `agentId` and `heartbeat` are read (docs/gateway-protocol.md §9). */
export interface HealthAgent {
  readonly agentId: string
  readonly heartbeat?: HealthHeartbeat | undefined
}
const isHealthHeartbeat = (value: unknown): value is HealthHeartbeat =>
  isRecord(value) && typeof value["enabled"] === "boolean" && typeof value["every"] === "string" && (value["everyMs"] === null || typeof value["everyMs"] === "number")
const isHealthAgent = (entry: unknown): entry is HealthAgent =>
  isRecord(entry) && typeof entry["agentId"] === "string" && (entry["heartbeat"] === undefined || isHealthHeartbeat(entry["heartbeat"]))

/** `health` (RPC result and event payload); `agents` as observed on 2026.9.6 (docs/gateway-protocol.md §9). */
export const HealthResult = z.looseObject({
  ok: z.boolean(),
  /** When the gateway took this sample (epoch ms): a plain `health` answers a cached one. */
  ts: z.number().optional(),
  agents: fleetArray(isHealthAgent, "agents {agentId: string, heartbeat?: {enabled, every, everyMs}}").optional()
})

/** `sessions.subscribe` → `{subscribed, list}`; `sessions.changed` events follow (docs/gateway-protocol.md §9). */
export const SessionsSubscribeResult = z.looseObject({ subscribed: z.boolean().optional() })

/**
 * The methods Switchyard calls, with the result schema each is decoded with. `sideEffect`
 * methods whose params schema admits it carry an `idempotencyKey` (docs/gateway-protocol.md §1: only
 * `chat.send` accepts one; every other params object is closed).
 */
export const Methods = {
  health: { result: HealthResult, idempotent: false },
  "agents.list": { result: AgentsListResult, idempotent: false },
  "agents.create": { result: AgentsCreateResult, idempotent: false },
  "agents.update": { result: AgentsUpdateResult, idempotent: false },
  "agents.delete": { result: AgentsDeleteResult, idempotent: false },
  "agents.files.list": { result: AgentsFilesListResult, idempotent: false },
  "agents.files.get": { result: AgentsFilesGetResult, idempotent: false },
  "agents.files.set": { result: AgentsFilesSetResult, idempotent: false },
  "config.get": { result: ConfigGetResult, idempotent: false },
  "config.patch": { result: ConfigPatchResult, idempotent: false },
  "sessions.list": { result: SessionsListResult, idempotent: false },
  "sessions.patch": { result: SessionsPatchResult, idempotent: false },
  "sessions.reset": { result: SessionsResetResult, idempotent: false },
  "sessions.delete": { result: SessionsDeleteResult, idempotent: false },
  "sessions.subscribe": { result: SessionsSubscribeResult, idempotent: false },
  "chat.send": { result: ChatSendResult, idempotent: true },
  "chat.history": { result: ChatHistoryResult, idempotent: false }
} as const satisfies Record<string, { result: z.ZodType; idempotent: boolean }>

export type Method = keyof typeof Methods
export type MethodResult<M extends Method> = z.infer<(typeof Methods)[M]["result"]>

/** Workspace file names the gateway accepts (docs/gateway-protocol.md §0.8). */
export const SUPPORTED_FILES = ["AGENTS.md", "SOUL.md", "USER.md", "IDENTITY.md", "MEMORY.md", "BOOTSTRAP.md"] as const
export type WorkspaceFileName = (typeof SUPPORTED_FILES)[number]
