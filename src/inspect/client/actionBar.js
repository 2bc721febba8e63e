// @ts-check
import { AGENT_ACTIONS, isAllowed } from "./agentActions.js"
import { h } from "./h.js"

/**
 * One button per lifecycle action, enabled only where the machine acts on its event in the
 * agent's current state (retry only in a `failed` substate or `offline`, and so on).
 * @param {import("./machineIndex.js").MachineIndex} index
 * @param {string} statePath
 * @param {(action: import("./agentActions.js").AgentAction) => void} onAction
 * @param {string} result the last action's outcome, shown under the buttons
 */
export function actionBar(index, statePath, onAction, result) {
  const buttons = AGENT_ACTIONS.map((action) => {
    const allowed = isAllowed(index, statePath, action)
    const button = h(
      "button",
      {
        type: "button",
        "data-action": action.name,
        disabled: !allowed,
        title: allowed ? `sends ${action.event}` : `${action.event} does nothing in ${statePath}`
      },
      action.name
    )
    button.addEventListener("click", () => onAction(action))
    return button
  })
  return h("section", { class: "actions" }, h("div", { class: "buttons" }, ...buttons), h("p", { class: "result", role: "status" }, result))
}
