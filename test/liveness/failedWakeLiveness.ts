import { openclawRelease } from "../support/openclawRelease.ts"

/**
 * The liveness view (`GET /api/v1/agents/:id`, `liveness`) of an online agent whose wake's run
 * failed for want of model auth, with LLM heartbeats off and its gateway reached: the run shows
 * why it failed, and the effective heartbeat reads disabled. A `toMatchObject` expectation; the
 * reason is the one of the release `OPENCLAW_RELEASE` names (the pinned one's, which the simulator
 * sends, unless it is `prev`; docs/gateway-protocol.md §11).
 */
export const failedWakeLiveness = {
  last_run: { heartbeat: false, outcome: "error", error: openclawRelease().runFailureWithoutCredentials },
  effective_heartbeat: { enabled: false, every: "disabled", every_ms: null },
  heartbeat_mismatch: null,
  gateway_reachable: true,
  missing_on_gateway: false
}
