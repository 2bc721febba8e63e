import { setTimeout as sleep } from "node:timers/promises"
import { describe, expect, it } from "vitest"
import type { RawConnection } from "../rawGatewayClient.ts"
import { callOk, createReadyAgent, type ConformanceTarget } from "./conformanceSupport.ts"

const HASH = /^hmac-sha256:v1:[A-Za-z0-9_-]+$/
/** How long a change may take to be told (seen: 0.5 s after a create's answer, 0.9 s after a hand edit). */
const NOTICE_MS = 10_000

const changes = (gw: RawConnection) => gw.events.filter((event) => event.event === "config.changed")

/** Waits until more than `count` `config.changed` events have arrived; answers how long it took, ms. */
async function nextChange(gw: RawConnection, count: number): Promise<number> {
  const started = Date.now()
  while (changes(gw).length <= count) {
    if (Date.now() - started > NOTICE_MS) throw new Error(`no config.changed within ${NOTICE_MS} ms`)
    await sleep(20)
  }
  return Date.now() - started
}

/**
 * `config.changed` (docs/gateway-protocol.md §6), which the quick config check's kept read
 * relies on (docs/architecture.md §5.6): the gateway tells a connected operator of every config
 * change, its own writes and an operator's edit of the file alike.
 */
export function defineConfigEventCases(conn: () => RawConnection, getTarget: () => ConformanceTarget, run: string, created: Set<string>): void {
  describe("config.changed", () => {
    it("after a config.patch, arrives before the patch's answer, with the new hash", async () => {
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-cfg-patch-${run}`, created)
      const { hash } = await callOk(gw, "config.get", {})
      const before = changes(gw).length
      const raw = JSON.stringify({ agents: { entries: { [agentId]: { heartbeat: { every: "15m", target: "none" } } } } })
      const patched = await callOk(gw, "config.patch", { raw, baseHash: hash })
      expect(changes(gw).length).toBeGreaterThan(before)
      expect(changes(gw).at(-1)?.payload).toEqual({ path: expect.any(String), hash: patched.hash, ts: expect.any(Number) })
    })

    it("after agents.create, arrives (on the real gateway ~0.5 s after the answer)", async () => {
      const gw = conn()
      const before = changes(gw).length
      const { agentId } = await callOk(gw, "agents.create", { name: `conf-cfg-create-${run}` })
      created.add(agentId)
      await nextChange(gw, before)
      expect(changes(gw).at(-1)?.payload).toMatchObject({ hash: expect.stringMatching(HASH) })
    })

    it("config.get right after agents.create and agents.files.list readiness shows the agent's entry in the file", async () => {
      // A provision sets the entry (config.get + config.patch, never re-adding a missing one) at
      // once after readiness: the create's config write must be in the file by then (§6: it commits ~0.5 s after the answer).
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-cfg-ready-${run}`, created)
      const read = await callOk(gw, "config.get", {})
      const entries = (read.parsed ?? read.config)?.["agents"] as { entries?: Record<string, unknown> } | undefined
      expect(Object.keys(entries?.entries ?? {})).toContain(agentId)
    })

    it("after an edit of the config file by hand, arrives, and config.get then shows the edit", async () => {
      const edit = getTarget().editConfigFile
      if (edit === undefined) throw new Error("the target cannot edit its config file")
      const gw = conn()
      const agentId = await createReadyAgent(gw, `conf-cfg-hand-${run}`, created)
      // Its create's own config.changed may still be on its way: let it come first.
      await sleep(1_500)
      const before = changes(gw).length
      await edit((config) => {
        const entries = (config["agents"] as { entries: Record<string, Record<string, unknown>> }).entries
        entries[agentId] = { ...entries[agentId], heartbeat: { every: "25m", target: "none" } }
      })
      await nextChange(gw, before)
      const after = await callOk(gw, "config.get", {})
      const entries = (after.parsed ?? after.config)?.["agents"] as { entries?: Record<string, { heartbeat?: unknown }> } | undefined
      expect(entries?.entries?.[agentId]?.heartbeat).toEqual({ every: "25m", target: "none" })
      expect(changes(gw).at(-1)?.payload).toMatchObject({ hash: after.hash })
    })
  })
}
