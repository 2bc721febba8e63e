import { createHash, randomBytes } from "node:crypto"
import { setTimeout as sleep } from "node:timers/promises"
import { expect, type TestContext } from "vitest"
import { Methods } from "../../../src/gateway/protocol.ts"
import type { Method, MethodResult } from "../../../src/gateway/protocol.ts"
import { lacking, releaseOfHello, type GatewayFeature } from "../openclawRelease.ts"
import { connectRaw, RawConnectError } from "../rawGatewayClient.ts"
import type { RawCallResult, RawConnection, RawError } from "../rawGatewayClient.ts"

/** Where the conformance cases point: the simulator or a real gateway. */
export interface ConformanceTarget {
  url: string
  token: string
  /** Edits the gateway's config file by hand, behind its back (the real one's `openclaw.json` on disk). */
  editConfigFile?: (edit: (config: Record<string, unknown>) => void) => Promise<void>
}

/** A short id unique to this test run, so cases never collide with leftovers on a shared gateway. */
export const runId = (): string => `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex")

/**
 * Skips the running case, with a note naming the release and what it lacks, when the gateway
 * behind `gw` (its `hello-ok.server.version`) lacks `feature` (docs/gateway-protocol.md §11).
 */
export function skipWhereLacking(ctx: TestContext, gw: RawConnection, feature: GatewayFeature): void {
  const why = lacking(releaseOfHello(gw.hello), feature)
  if (why !== undefined) ctx.skip(why)
}

/** How long a call refused while the gateway restarts is sent again (ms; `retryingRestarts`). */
export const RESTARTING_RETRY_MS = 10_000

/**
 * Whether a call was refused because the gateway is restarting: `UNAVAILABLE`, `retryable`, with
 * `details.reason` "gateway-restarting" (docs/gateway-protocol.md §9; seen under heavy load).
 */
export const refusedAsRestarting = (res: RawCallResult): boolean =>
  res.ok === false &&
  res.error?.code === "UNAVAILABLE" &&
  res.error.retryable === true &&
  (res.error.details as { reason?: unknown } | undefined)?.reason === "gateway-restarting"

/**
 * `gw` with each call refused as the gateway restarts (`refusedAsRestarting`) sent again after
 * the refusal's `retryAfterMs` (250 ms when absent, at most 2 s), for up to `budgetMs`; then the
 * last answer stands. Such a refusal comes before the method runs, so sending again is safe, and
 * every other answer (other `UNAVAILABLE`s included: `patchConfig` and `waitForAgent` read theirs)
 * comes back as it was, so what the cases assert is unchanged.
 */
export function retryingRestarts(gw: RawConnection, budgetMs = RESTARTING_RETRY_MS): RawConnection {
  const call = async (method: string, params?: unknown): Promise<RawCallResult> => {
    const deadline = Date.now() + budgetMs
    for (;;) {
      const res = await gw.call(method, params)
      if (!refusedAsRestarting(res)) return res
      const delay = Math.min(res.error?.retryAfterMs ?? 250, 2_000)
      if (Date.now() + delay > deadline) return res
      await sleep(delay)
    }
  }
  return { hello: gw.hello, events: gw.events, close: () => gw.close(), call }
}

/** Calls `method` and decodes the payload with Switchyard's own schema (src/gateway/protocol.ts). */
export async function callOk<M extends Method>(gw: RawConnection, method: M, params?: unknown): Promise<MethodResult<M>> {
  const res = await gw.call(method, params)
  expect(res.error, `${method} failed`).toBeUndefined()
  expect(res.ok).toBe(true)
  return Methods[method].result.parse(res.payload) as MethodResult<M>
}

/** Calls `method` expecting a refusal; returns the error for further checks. */
export async function callFail(gw: RawConnection, method: string, params?: unknown): Promise<RawError> {
  const res: RawCallResult = await gw.call(method, params)
  expect(res.ok, `${method} unexpectedly succeeded: ${JSON.stringify(res.payload)?.slice(0, 200)}`).toBe(false)
  expect(res.error).toBeDefined()
  return res.error as RawError
}

/**
 * Polls agents.list until `agentId` shows up (docs/gateway-protocol.md §0.6: 160–375 ms on the real
 * gateway). A plain loop rather than `expect.poll`, so that hooks can use it too. While the
 * gateway hot-reloads after a create it may answer UNAVAILABLE ("Plugin openai was reloaded"):
 * that means "not yet", as it does to the service's retry policies.
 */
export async function waitForAgent(gw: RawConnection, agentId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const listed = await gw.call("agents.list", {})
    if (!(listed.ok === false && listed.error?.code === "UNAVAILABLE")) {
      expect(listed.error, "agents.list failed").toBeUndefined()
      const { agents } = Methods["agents.list"].result.parse(listed.payload)
      if (agents.some((a) => a.id === agentId)) return
    }
    if (Date.now() > deadline) throw new Error(`agent ${agentId} not listed within ${timeoutMs} ms`)
    await sleep(150)
  }
}

/** Creates an agent, waits until it is usable and registers it for cleanup. */
export async function createReadyAgent(gw: RawConnection, name: string, created: Set<string>): Promise<string> {
  const { agentId } = await callOk(gw, "agents.create", { name })
  created.add(agentId)
  await waitForAgent(gw, agentId)
  return agentId
}

/** Best-effort removal of everything a run created; a real gateway outlives the test file. */
export async function deleteAgents(gw: RawConnection | undefined, created: Set<string>): Promise<void> {
  if (gw === undefined) return
  for (const agentId of created) await gw.call("agents.delete", { agentId, deleteFiles: true }).catch(() => undefined)
  created.clear()
}

/**
 * Connects, retrying for up to `timeoutMs` while the gateway is restarting (connection refused,
 * close 1012/1013, `UNAVAILABLE` during start-up).
 */
export async function connectWhenUp(target: ConformanceTarget, timeoutMs = 90_000): Promise<RawConnection> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await connectRaw(target)
    } catch (err) {
      const notYet = err instanceof RawConnectError && (err.error === undefined || err.error.code === "UNAVAILABLE")
      if (!notYet || Date.now() > deadline) throw err
      await sleep(250)
    }
  }
}

/**
 * Sends `config.patch` and answers the hash of the patched config. A real gateway may answer
 * `UNAVAILABLE` "persisted … but a recovery restart is required" and restart
 * (docs/gateway-protocol.md §9): the patch then stands, so this waits for the gateway through
 * `reopen` and reads the hash back with `config.get`.
 */
export async function patchConfig(
  conn: () => RawConnection,
  reopen: () => Promise<RawConnection>,
  params: { raw: string; baseHash: string }
): Promise<string> {
  const res = await conn().call("config.patch", params)
  if (res.ok === false && res.error?.code === "UNAVAILABLE" && /recovery restart is required/.test(res.error.message)) {
    await reopen()
    return (await callOk(conn(), "config.get", {})).hash
  }
  expect(res.error, "config.patch failed").toBeUndefined()
  const hash = Methods["config.patch"].result.parse(res.payload).hash
  expect(hash).toBeDefined()
  return hash as string
}
