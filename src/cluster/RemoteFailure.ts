import { SqlError } from "@effect/sql/SqlError"
import { Schema } from "effect"
import { AgentNotFound, AgentPersistTimeout, AgentsRestoring, AgentWaitTimeout, BoardFull } from "../agents/AgentSystemErrors.ts"
import {
  GatewayConnectionError,
  GatewayPairingRequired,
  GatewayProtocolError,
  GatewayRpcError,
  GatewayTimeoutError
} from "../gateway/GatewayError.ts"

/**
 * A typed failure on the owner, as it crosses to the runner that asked: the error's `_tag` and
 * its fields as JSON. `rebuild` turns it back into an instance of the same class, so callers
 * branch on it exactly as on a local failure (docs/architecture.md "Cluster").
 */
export class RemoteFailure extends Schema.TaggedError<RemoteFailure>()("RemoteFailure", {
  tag: Schema.String,
  fields: Schema.Unknown
}) {}

type Rebuilt = AgentNotFound | AgentsRestoring | AgentPersistTimeout | AgentWaitTimeout | BoardFull | SqlError | GatewayRpcError | GatewayConnectionError | GatewayTimeoutError | GatewayProtocolError | GatewayPairingRequired

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each class takes its own fields, checked when it was encoded
const CLASSES: Record<string, new (fields: any) => Rebuilt> = {
  AgentNotFound,
  AgentsRestoring,
  AgentPersistTimeout,
  AgentWaitTimeout,
  BoardFull,
  GatewayRpcError,
  GatewayConnectionError,
  GatewayTimeoutError,
  GatewayProtocolError,
  GatewayPairingRequired
}

/** The tagged error `error` as a `RemoteFailure` (own enumerable fields, JSON-safe; no stack). */
export const toRemoteFailure = (error: { readonly _tag: string }): RemoteFailure => {
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error)) {
    if (key === "_tag" || key === "stack" || value === undefined) continue
    fields[key] = value
  }
  // A message given as a field is an own, non-enumerable property (one computed by a getter is not).
  const message = Object.getOwnPropertyDescriptor(error, "message")?.value
  if (typeof message === "string") fields["message"] = message
  // A SqlError's cause is a driver error: its message and SQLSTATE cross (a unique violation
  // on the owner must still read as one here, e.g. a duplicate name is a 409).
  if (error._tag === "SqlError") {
    const cause = (error as SqlError).cause as { readonly code?: unknown } | null | undefined
    fields["cause"] = { message: String((error as SqlError).message), ...(typeof cause?.code === "string" ? { code: cause.code } : {}) }
  }
  return new RemoteFailure({ tag: error._tag, fields: JSON.parse(JSON.stringify(fields)) as unknown })
}

/** The original error back from a `RemoteFailure`; an unknown tag is a defect (a build mismatch between runners). */
export const rebuild = (failure: RemoteFailure): Rebuilt => {
  const fields = (typeof failure.fields === "object" && failure.fields !== null ? failure.fields : {}) as Record<string, unknown>
  if (failure.tag === "SqlError") return new SqlError({ cause: fields["cause"], message: typeof fields["message"] === "string" ? fields["message"] : "database failure on the owner" })
  const Class = CLASSES[failure.tag]
  if (Class === undefined) throw new Error(`a runner answered with an unknown failure ${failure.tag}`)
  return new Class(fields)
}
