import { SqlError } from "@effect/sql/SqlError"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { AgentNotFound, AgentPersistTimeout, AgentsRestoring, BoardFull } from "../../src/agents/AgentSystemErrors.ts"
import { rebuild, RemoteFailure, toRemoteFailure } from "../../src/cluster/RemoteFailure.ts"
import { isUniqueViolation } from "../../src/store/sqlErrors.ts"
import {
  GatewayConnectionError,
  GatewayPairingRequired,
  GatewayProtocolError,
  GatewayRpcError,
  GatewayTimeoutError,
  isGatewayError,
  isTransient
} from "../../src/gateway/GatewayError.ts"

/** What crosses between runners: the encoded failure as bytes would carry it (JSON here; MessagePack keeps the same values). */
const acrossRunners = (error: { readonly _tag: string }) => {
  const encoded = Schema.encodeSync(RemoteFailure)(toRemoteFailure(error))
  return rebuild(Schema.decodeUnknownSync(RemoteFailure)(JSON.parse(JSON.stringify(encoded))))
}

describe("a failure on the owner, rebuilt on the runner that forwarded the call", () => {
  it("every GatewayError variant comes back as the same class with the same fields, and stays (non-)transient", () => {
    const errors = [
      new GatewayRpcError({ method: "agents.create", code: "INVALID_REQUEST", kind: "agent_exists", message: "agent exists", retryable: false, details: { code: "X" } }),
      new GatewayRpcError({ method: "chat.send", code: "UNAVAILABLE", kind: "unavailable", message: "busy", retryable: true, retryAfterMs: 1500 }),
      new GatewayConnectionError({ reason: "closed", message: "socket closed", closeCode: 1012, retryable: true }),
      new GatewayTimeoutError({ method: "config.get", timeoutMs: 30_000 }),
      new GatewayProtocolError({ method: "sessions.list", message: "unexpected payload" }),
      new GatewayPairingRequired({ requestId: "req-1", deviceId: "dev-1", reason: "not-paired" })
    ]
    for (const error of errors) {
      const back = acrossRunners(error)
      expect(back).toBeInstanceOf(error.constructor)
      expect(isGatewayError(back)).toBe(true)
      expect({ ...back }).toEqual({ ...error })
      expect(back.message).toBe(error.message)
      expect(isTransient(back as never)).toBe(isTransient(error))
    }
  })

  it("agent errors come back as their own classes; a database failure as a SqlError without its driver cause", () => {
    for (const error of [new AgentNotFound({ agentId: "a" }), new AgentsRestoring({ agentId: "a", reason: "owner-unavailable" }), new AgentPersistTimeout({ agentId: "a", timeoutMs: 15_000 }), new BoardFull({ boardId: "b", maxAgents: 3 })]) {
      const back = acrossRunners(error)
      expect(back).toBeInstanceOf(error.constructor)
      expect({ ...back }).toEqual({ ...error })
    }
    const sql = acrossRunners(new SqlError({ cause: new Error("connection terminated"), message: "Failed to execute statement" }))
    expect(sql).toBeInstanceOf(SqlError)
    expect(sql.message).toBe("Failed to execute statement")
  })

  it("a unique violation on the owner is still one on the runner that asked (a duplicate name stays a 409)", () => {
    const duplicate = Object.assign(new Error("duplicate key value violates unique constraint"), { code: "23505" })
    const back = acrossRunners(new SqlError({ cause: duplicate, message: "Failed to execute statement" }))
    expect(back).toBeInstanceOf(SqlError)
    expect(isUniqueViolation(back as SqlError)).toBe(true)
    expect(isUniqueViolation(acrossRunners(new SqlError({ cause: new Error("connection terminated"), message: "x" })) as SqlError)).toBe(false)
  })

  it("an unknown tag (runners of different builds) is a defect, not a guess", () => {
    expect(() => rebuild(new RemoteFailure({ tag: "SomethingNew", fields: {} }))).toThrow(/SomethingNew/)
  })
})
