// @ts-check
import { handlersOf } from "./machineIndex.js"

/**
 * @typedef {import("./machineIndex.js").MachineIndex} MachineIndex
 * @typedef {{ name: string, event: string, method: string, path: (id: string) => string, body?: unknown, confirm?: string }} AgentAction
 */

/**
 * The lifecycle events an operator can send, each through the same admin API any client uses
 * (README "Agents"). Update is forced so it re-applies even without changes.
 * @type {ReadonlyArray<AgentAction>}
 */
export const AGENT_ACTIONS = [
  { name: "retry", event: "agent.retry", method: "POST", path: (id) => `/api/v1/agents/${encodeURIComponent(id)}/retry` },
  { name: "update", event: "agent.update", method: "PATCH", path: (id) => `/api/v1/agents/${encodeURIComponent(id)}?force=true`, body: {} },
  {
    name: "delete",
    event: "agent.delete",
    method: "DELETE",
    path: (id) => `/api/v1/agents/${encodeURIComponent(id)}`,
    confirm: "Delete this agent and remove it from its gateway?"
  }
]

/**
 * Whether `action` does something in `statePath`, read from the machine itself: the innermost
 * active state that names the event must move or act on it (a declared `{}` swallows it, as
 * `deleting` does with `agent.update`). Guards are assumed to pass: the server has the last word.
 * @param {MachineIndex} index
 * @param {string} statePath
 * @param {AgentAction} action
 */
export function isAllowed(index, statePath, action) {
  return handlersOf(index, statePath, action.event).some((transition) => transition.targets.length > 0 || transition.actions.length > 0)
}
