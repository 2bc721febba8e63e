import { describe, expect, it } from "vitest"
import type { RawConnection } from "../rawGatewayClient.ts"
import { callFail, callOk, createReadyAgent, sha256Hex, skipWhereLacking } from "./conformanceSupport.ts"

/**
 * Agent and workspace-file cases (docs/gateway-protocol.md §0.6, §0.8, §5 agents.*): create → poll until
 * visible → files list/set/get with hashes → delete, plus the refusals. A case needing what an
 * older release lacks skips on it and says so (docs/gateway-protocol.md §11).
 */
export function defineAgentCases(conn: () => RawConnection, run: string, created: Set<string>): void {
  describe("agents", () => {
    it("creates an agent, derives its id from the name, and deletes it", async () => {
      const gw = conn()
      const name = `Conf Display ${run}`
      const agentId = await createReadyAgent(gw, name, created)
      expect(agentId).toBe(`conf-display-${run}`)
      const row = (await callOk(gw, "agents.list", {})).agents.find((a) => a.id === agentId)
      expect(row).toMatchObject({ id: agentId, name })
      expect((await callOk(gw, "agents.update", { agentId, name: `${name} Renamed` })).agentId).toBe(agentId)

      const deleted = await callOk(gw, "agents.delete", { agentId, deleteFiles: true })
      expect(deleted.agentId).toBe(agentId)
      created.delete(agentId)
      // A second delete is refused at once, but agents.list lags like it does after a create.
      expect(await callFail(gw, "agents.delete", { agentId })).toMatchObject({ code: "INVALID_REQUEST", message: `agent "${agentId}" not found` })
      await expect
        .poll(async () => (await callOk(gw, "agents.list", {})).agents.map((a) => a.id), { timeout: 30_000, interval: 150 })
        .not.toContain(agentId)
      expect(await callFail(gw, "agents.files.list", { agentId })).toMatchObject({ message: `agent "${agentId}" not found` })
    })

    it("lists, writes and reads workspace files", async () => {
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-files-${run}`, created)

      const listed = await callOk(gw, "agents.files.list", { agentId })
      const byName = new Map(listed.files.map((f) => [f.name, f]))
      for (const name of ["AGENTS.md", "SOUL.md", "USER.md", "BOOTSTRAP.md"]) expect(byName.get(name)?.missing).toBe(false)
      expect(byName.get("MEMORY.md")).toMatchObject({ missing: true, expectedAbsent: true })
      expect(byName.has("IDENTITY.md")).toBe(false)

      const content = `# SOUL\nConformance ${run}.\n`
      const set = await callOk(gw, "agents.files.set", { agentId, name: "SOUL.md", content })
      expect(set.file).toMatchObject({ name: "SOUL.md", missing: false, content })
      const got = await callOk(gw, "agents.files.get", { agentId, name: "SOUL.md" })
      expect(got.file).toMatchObject({ name: "SOUL.md", missing: false, content })

      const memory = await callOk(gw, "agents.files.get", { agentId, name: "MEMORY.md" })
      expect(memory.file).toMatchObject({ name: "MEMORY.md", missing: true })
      await callOk(gw, "agents.files.set", { agentId, name: "IDENTITY.md", content: `# IDENTITY\n- Name: conf ${run}\n` })
      const relisted = await callOk(gw, "agents.files.list", { agentId })
      expect(relisted.files.map((f) => f.name)).not.toContain("IDENTITY.md")

      for (const name of ["TASK_SOUL.md", "HEARTBEAT.md", "../evil.md"]) {
        expect(await callFail(gw, "agents.files.set", { agentId, name, content: "x" })).toMatchObject({
          code: "INVALID_REQUEST",
          message: `unsupported file "${name}"`
        })
      }
    })

    it("answers files with sha256 hashes and refuses a stale expectedHash", async (ctx) => {
      const gw = conn()
      skipWhereLacking(ctx, gw, "agents.files.set expectedHash")
      const agentId = await createReadyAgent(gw, `conf-hash-${run}`, created)
      const content = `# SOUL\nConformance ${run}.\n`
      const set = await callOk(gw, "agents.files.set", { agentId, name: "SOUL.md", content })
      expect(set.file).toMatchObject({ name: "SOUL.md", missing: false, hash: sha256Hex(content), content })
      const got = await callOk(gw, "agents.files.get", { agentId, name: "SOUL.md" })
      expect(got.file).toMatchObject({ hash: sha256Hex(content), content })

      const stale = await callFail(gw, "agents.files.set", { agentId, name: "SOUL.md", content: "v2\n", expectedHash: "0".repeat(64) })
      expect(stale).toMatchObject({
        code: "INVALID_REQUEST",
        message: 'agent file "SOUL.md" changed since it was read',
        details: { type: "agent_file_conflict", name: "SOUL.md", currentHash: sha256Hex(content) }
      })
      expect(await callFail(gw, "agents.files.set", { agentId, name: "SOUL.md", content: "v2\n", expectedHash: "abc" })).toMatchObject({
        message: 'invalid agents.files.set params: at /expectedHash: must not have fewer than 64 characters; at /expectedHash: must match pattern "^[a-fA-F0-9]{64}$"'
      })
      const fresh = await callOk(gw, "agents.files.set", { agentId, name: "SOUL.md", content: "v2\n", expectedHash: sha256Hex(content) })
      expect(fresh.file.hash).toBe(sha256Hex("v2\n"))
    })

    it("refuses a duplicate create, main's deletion and unknown agents", async () => {
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-dup-${run}`, created)
      expect(await callFail(gw, "agents.create", { name: `conf-dup-${run}` })).toMatchObject({
        code: "INVALID_REQUEST",
        message: `agent "${agentId}" already exists`
      })
      expect(await callFail(gw, "agents.delete", { agentId: "main", deleteFiles: false })).toMatchObject({
        code: "INVALID_REQUEST",
        message: expect.stringMatching(/^Agent "main" owns the legacy shared auth store and cannot be deleted\./)
      })
      const ghost = `conf-ghost-${run}`
      expect(await callFail(gw, "agents.update", { agentId: ghost, name: "x" })).toMatchObject({ message: `agent "${ghost}" not found` })
      expect(await callFail(gw, "agents.files.get", { agentId: ghost, name: "SOUL.md" })).toMatchObject({ message: `agent "${ghost}" not found` })
      expect((await callOk(gw, "agents.list", {})).agents.map((a) => a.id)).toContain("main")
    })
  })
}
