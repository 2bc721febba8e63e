import { expect } from "vitest"
import { connectRaw } from "./rawGatewayClient.ts"
import type { GatewaySimulator } from "./simulator/GatewaySimulator.ts"

const POLL = { timeout: 15_000, interval: 50 }

/**
 * Creates gateway agent `id` on the simulator behind Switchyard's back (as a person or a crashed
 * create would), waits until `agents.list` shows it, then writes `files` (name → content) into it.
 */
export const createOnGateway = async (simulator: GatewaySimulator, id: string, files: Record<string, string> = {}) => {
  const raw = await connectRaw({ url: simulator.url, token: simulator.token })
  try {
    expect((await raw.call("agents.create", { name: id })).ok).toBe(true)
    const listed = async () => ((await raw.call("agents.list", {})).payload as { agents: Array<{ id: string }> }).agents
    await expect.poll(async () => (await listed()).some((agent) => agent.id === id), POLL).toBe(true)
    for (const [name, content] of Object.entries(files)) expect((await raw.call("agents.files.set", { agentId: id, name, content })).ok).toBe(true)
  } finally {
    await raw.close()
  }
}
