// @ts-check
import { h } from "./h.js"

/**
 * @typedef {import("./agentDetails.js").Agent} Agent
 * @typedef {{ update: (agent: Agent) => void, load: () => Promise<void>, show: (id: string | null) => void }} AgentPicker
 */

const PLACEHOLDER = "— pick an agent —"

/** @param {Agent} agent */
const label = (agent) => `${agent.name ?? agent.id} · ${agent.state}`

/**
 * The agent list (`GET /api/v1/agents`, up to 200) as a <select> whose lines show each agent's
 * state; `update` keeps a line current from live updates (adding agents created since).
 * @param {HTMLSelectElement} select
 * @param {import("./adminApi.js").AdminApi} api
 * @param {(id: string | null) => void} onPick
 * @returns {AgentPicker}
 */
export function agentPicker(select, api, onPick) {
  select.addEventListener("change", () => onPick(select.value === "" ? null : select.value))
  return {
    update(agent) {
      const existing = [...select.options].find((option) => option.value === agent.id)
      if (existing !== undefined) existing.textContent = label(agent)
      else select.append(h("option", { value: agent.id }, label(agent)))
    },
    async load() {
      const answer = await api("GET", "/api/v1/agents?limit=200")
      if (answer.status !== 200) return
      const current = select.value
      const agents = /** @type {Array<Agent>} */ (answer.body.items)
      select.replaceChildren(h("option", { value: "" }, PLACEHOLDER), ...agents.map((agent) => h("option", { value: agent.id }, label(agent))))
      select.value = current
    },
    show(id) {
      select.value = id ?? ""
    }
  }
}
