import { randomUUID } from "node:crypto"
import { beforeAll, describe, expect, it } from "vitest"
import type { RawConnection } from "../rawGatewayClient.ts"
import { callFail, callOk, createReadyAgent, patchConfig, skipWhereLacking } from "./conformanceSupport.ts"

const HASH = /^hmac-sha256:v1:[A-Za-z0-9_-]+$/

/**
 * Config, session and chat cases against one fixture agent (docs/gateway-protocol.md §0.5, §5 config.*,
 * sessions.*, chat.*).
 */
export function defineStateCases(conn: () => RawConnection, reopen: () => Promise<RawConnection>, run: string, created: Set<string>): void {
  describe("config, sessions and chat", () => {
    let agentId = ""
    beforeAll(async () => {
      agentId = await createReadyAgent(conn(), `conf-state-${run}`, created)
    })

    it("patches agents.entries.<id>.heartbeat with baseHash and rejects stale or missing hashes", async () => {
      const gw = conn()
      const before = await callOk(gw, "config.get", {})
      expect(before.hash).toMatch(HASH)
      const heartbeat = { agents: { entries: { [agentId]: { heartbeat: { every: "10m", target: "none" } } } } }
      const patched = await patchConfig(conn, reopen, { raw: JSON.stringify(heartbeat), baseHash: before.hash })
      expect(patched).toMatch(HASH)
      expect(patched).not.toBe(before.hash)

      const after = await callOk(conn(), "config.get", {})
      expect(after.hash).toBe(patched)
      const entries = (after.config ?? after.parsed)?.agents as { entries?: Record<string, { heartbeat?: unknown }> } | undefined
      expect(entries?.entries?.[agentId]?.heartbeat).toEqual({ every: "10m", target: "none" })

      const again = { agents: { entries: { [agentId]: { heartbeat: { every: "20m" } } } } }
      expect(await callFail(conn(), "config.patch", { raw: JSON.stringify(again), baseHash: before.hash })).toMatchObject({
        code: "INVALID_REQUEST",
        message: "config changed since last load; re-run config.get and retry"
      })
      const hashless = await callFail(conn(), "config.patch", { raw: JSON.stringify(again) })
      expect(hashless.message).toBe(`config base hash required for agents.entries.${agentId}.heartbeat.every; re-run config.get and retry with baseHash`)
    })

    it("rejects the retired agents.list shape, unknown root keys and bad JSON5", async () => {
      const gw = conn()
      const { hash } = await callOk(gw, "config.get", {})
      const raw = JSON.stringify({ agents: { list: [{ id: agentId, heartbeat: { every: "10m" } }] }, bogus: 1 })
      const error = await callFail(gw, "config.patch", { raw, baseHash: hash })
      expect(error).toMatchObject({
        code: "INVALID_REQUEST",
        message: 'invalid config: agents: Unrecognized key: "list"; <root>: Unrecognized key: "bogus"'
      })
      expect(error.details).toEqual({
        issues: [
          { path: "agents", message: 'Unrecognized key: "list"' },
          { path: "", message: 'Unrecognized key: "bogus"' }
        ]
      })
      expect(await callFail(gw, "config.patch", { raw: "{ a: @ }", baseHash: hash })).toMatchObject({
        message: "SyntaxError: JSON5: invalid character '@' at 1:6"
      })
      const json5 = `{ agents: { entries: { '${agentId}': { heartbeat: { every: "1h", includeReasoning: false, }, }, }, }, }`
      expect(await callFail(gw, "config.patch", { raw: json5, baseHash: hash })).toMatchObject({
        message: `invalid config: agents.entries.${agentId}.heartbeat: Unrecognized key: "includeReasoning"`
      })
    })

    it("ensures, lists, resets and deletes sessions, refusing the main one", async () => {
      const gw = conn()
      const main = `agent:${agentId}:main`
      const ensured = await callOk(gw, "sessions.patch", { key: main, label: `Conf ${run}` })
      expect(ensured).toMatchObject({ ok: true, key: main, entry: { label: `Conf ${run}`, sessionId: expect.any(String) } })
      const listed = await callOk(gw, "sessions.list", { agentId })
      expect(listed.sessions.find((s) => s.key === main)).toMatchObject({ key: main, agentId, isMain: true })
      expect(await callOk(gw, "sessions.reset", { key: main })).toMatchObject({ ok: true, key: main })
      expect(await callFail(gw, "sessions.delete", { key: main })).toMatchObject({
        code: "INVALID_REQUEST",
        message: `Cannot delete the main session (${main}).`
      })

      const side = `agent:${agentId}:conf-side-${run}`
      await callOk(gw, "sessions.patch", { key: side, label: `Conf side ${run}` })
      expect(await callOk(gw, "sessions.delete", { key: side })).toMatchObject({ ok: true, deleted: true })
      expect(await callOk(gw, "sessions.delete", { key: side })).toMatchObject({ ok: true, deleted: false })
    })

    it("sends chat with an idempotencyKey, replays it as in_flight, and shows it in history", async () => {
      const gw = conn()
      const sessionKey = `agent:${agentId}:conf-chat-${run}`
      await callOk(gw, "sessions.patch", { key: sessionKey, label: `Conf chat ${run}` })
      const missing = await callFail(gw, "chat.send", { sessionKey, message: "hello", deliver: false })
      expect(missing).toMatchObject({ code: "INVALID_REQUEST", message: "invalid chat.send params: must have required property 'idempotencyKey'" })

      const idempotencyKey = randomUUID()
      const params = { sessionKey, message: `hello ${run}`, deliver: false, idempotencyKey }
      expect(await callOk(gw, "chat.send", params)).toEqual({ runId: idempotencyKey, status: "started" })
      expect(await callOk(gw, "chat.send", params)).toEqual({ runId: idempotencyKey, status: "in_flight" })
      const ghost = `conf-ghost-${run}`
      expect(await callFail(gw, "chat.send", { ...params, sessionKey: `agent:${ghost}:main`, idempotencyKey: randomUUID() })).toMatchObject({
        code: "INVALID_REQUEST",
        message: `Agent "${ghost}" no longer exists in configuration`
      })

      await expect
        .poll(async () => (await callOk(gw, "chat.history", { sessionKey, limit: 20 })).messages, { timeout: 15_000, interval: 200 })
        .toContainEqual(expect.objectContaining({ role: "user", content: `hello ${run}`, idempotencyKey: `${idempotencyKey}:user` }))
      const unknown = await callOk(gw, "chat.history", { sessionKey: `agent:${agentId}:conf-none-${run}`, limit: 5 })
      expect(unknown.messages).toEqual([])
    })

    it("refuses an idempotencyKey reused for another message with chat-request-conflict", async (ctx) => {
      const gw = conn()
      skipWhereLacking(ctx, gw, "chat.send chat-request-conflict")
      const sessionKey = `agent:${agentId}:conf-conflict-${run}`
      await callOk(gw, "sessions.patch", { key: sessionKey })
      const params = { sessionKey, message: `first ${run}`, deliver: false, idempotencyKey: randomUUID() }
      expect(await callOk(gw, "chat.send", params)).toMatchObject({ runId: params.idempotencyKey })
      expect(await callFail(gw, "chat.send", { ...params, message: "something else" })).toMatchObject({
        code: "INVALID_REQUEST",
        details: { reason: "chat-request-conflict" }
      })
    })
  })
}
