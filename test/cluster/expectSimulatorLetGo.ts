import { expect } from "vitest"
import type { GatewaySimulator } from "../support/simulator/GatewaySimulator.ts"

/**
 * Waits (up to `poll`) until `simulator` has no open socket, then asserts it hears no call and
 * no new connection over twenty probe periods of `probeMs`: a watcher still running would probe
 * (and dial its address again) on each (docs/architecture.md §11).
 */
export const expectSimulatorLetGo = async (simulator: GatewaySimulator, probeMs: number, poll: { timeout: number; interval: number }) => {
  await expect.poll(() => simulator.openSockets, poll).toBe(0)
  const calls = simulator.calls.length
  const opened = simulator.connectionsOpened
  await new Promise((resolve) => setTimeout(resolve, 20 * probeMs))
  expect(simulator.calls.slice(calls).map((call) => call.method)).toEqual([])
  expect(simulator.connectionsOpened).toBe(opened)
}
