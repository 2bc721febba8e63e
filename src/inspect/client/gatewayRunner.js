// @ts-check
/**
 * @typedef {import("./adminApi.js").AdminApi} AdminApi
 * @typedef {{ self?: string, gateways?: Array<{ gateway_id: string, runner: string | null }> }} ClusterView
 */

/**
 * Which runner owns a gateway (and so its agents' actors and its one socket), as text for the
 * agent pane, from `GET /api/v1/cluster` (docs/operations.md "Cluster"): the runner's address,
 * marked when it is the instance serving this page; "no live owner" while the gateway waits for
 * one (its runner died, the lock has not expired); "—" when the server cannot say.
 * @param {AdminApi} api @param {string | undefined} gatewayId
 * @returns {Promise<string>}
 */
export async function gatewayRunner(api, gatewayId) {
  if (gatewayId === undefined) return "—"
  const answer = await api("GET", "/api/v1/cluster").catch(() => null)
  if (answer === null || answer.status !== 200) return "—"
  const view = /** @type {ClusterView} */ (answer.body ?? {})
  const entry = (view.gateways ?? []).find((gateway) => gateway.gateway_id === gatewayId)
  if (entry === undefined || entry.runner === null || entry.runner === "") return "no live owner"
  return entry.runner === view.self ? `${entry.runner} (this instance)` : entry.runner
}
