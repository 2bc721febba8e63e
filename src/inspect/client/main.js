// @ts-check
import { actionBar } from "./actionBar.js"
import { adminApi, tokenStore } from "./adminApi.js"
import { agentDetails } from "./agentDetails.js"
import { agentPicker } from "./agentPicker.js"
import { drawStatechart } from "./drawStatechart.js"
import { gatewayRunner } from "./gatewayRunner.js"
import { historyRow, historyTable } from "./historyTable.js"
import { h } from "./h.js"
import { startLiveFeed } from "./liveFeed.js"
import { machineIndex } from "./machineIndex.js"
import { timeText } from "./timeText.js"

/**
 * The page: the agent statechart, a picker over the agents, and the selected agent highlighted live
 * beside its context, history and actions. Everything it reads goes through the public API.
 * @typedef {import("./agentDetails.js").Agent} Agent
 */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const HISTORY_LIMIT = 50

/** What the page shows; `render()` draws the agent pane from it. */
const view = {
  /** @type {Agent | null} */ agent: null,
  /** @type {Array<import("./historyTable.js").HistoryRow>} */ history: [],
  historySource: "",
  result: "",
  /** Which runner owns the selected agent's gateway (gatewayRunner.js). */
  runner: "—"
}

const definition = await (await fetch("/api/v1/machines/agent")).json()
const index = machineIndex(definition)
const chart = await drawStatechart(index, $("chart"), $("chart-tools"))

const selectedId = () => new URLSearchParams(location.hash.slice(1)).get("agent")

/** Shows the token form; `reason` says why (first visit, refused token). @param {string} reason */
function askForToken(reason) {
  tokenStore.clear()
  $("token-error").textContent = reason
  $("token-form").hidden = false
  document.body.classList.add("signed-out")
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault()
  const input = /** @type {HTMLInputElement} */ ($("admin-token"))
  tokenStore.set(input.value.trim())
  location.reload()
})
$("sign-out").addEventListener("click", () => askForToken("signed out"))

const token = tokenStore.get()
if (token === null || token === "") askForToken("")
else start(token)

/** @param {string} token */
function start(token) {
  let signedOut = false
  const unauthorized = () => {
    if (signedOut) return
    signedOut = true
    feed.stop()
    askForToken("that token was refused (401/403): enter the admin token")
  }
  const api = adminApi(token, unauthorized)
  const picker = agentPicker(/** @type {HTMLSelectElement} */ ($("agent-picker")), api, (id) => {
    location.hash = id === null ? "" : `agent=${encodeURIComponent(id)}`
  })
  /** @param {string} id @returns {Promise<Agent | null>} */
  const fetchAgent = async (id) => {
    const answer = await api("GET", `/api/v1/agents/${encodeURIComponent(id)}`)
    return answer.status === 200 ? answer.body : null
  }

  const render = () => {
    const agent = view.agent
    const pane = $("agent-pane")
    if (agent === null) {
      pane.replaceChildren(h("p", { class: "empty" }, selectedId() === null ? "Pick an agent to follow its state." : "Agent not found."))
      chart.highlight("")
      return
    }
    chart.highlight(agent.state)
    pane.replaceChildren(
      agentDetails(agent, index, Date.now(), view.runner),
      actionBar(index, agent.state, (action) => void act(action), view.result),
      historyTable(view.history, view.historySource, Date.now())
    )
  }

  const loadHistory = async (/** @type {string} */ id) => {
    const path = `/api/v1/agents/${encodeURIComponent(id)}`
    let answer = await api("GET", `${path}/transitions?limit=${HISTORY_LIMIT}`)
    view.historySource = "transitions"
    // The transition log is newer than the activity feed; older servers only have the latter.
    if (answer.status === 404) {
      answer = await api("GET", `${path}/activity?limit=${HISTORY_LIMIT}`)
      view.historySource = "activity"
    }
    if (id !== selectedId()) return
    view.history = answer.status === 200 ? (answer.body?.items ?? []).map((/** @type {Record<string, any>} */ item) => historyRow(item)) : []
    render()
  }

  /** @param {import("./liveFeed.js").AgentUpdate} update */
  const onUpdate = ({ agent, transition, cursor }) => {
    picker.update(/** @type {Agent} */ (agent))
    if (agent.id !== selectedId()) return
    const previous = view.agent
    if (previous !== null && previous.id === agent.id && agent.version < previous.version) return
    view.agent = /** @type {Agent} */ (agent)
    const row = transition === null ? null : historyRow(transition, cursor === null ? null : Number(cursor))
    // A reload of the history may already hold what the stream now delivers.
    if (row !== null && !view.history.some((known) => known.cursor !== null && known.cursor === row.cursor)) {
      view.history = [row, ...view.history].slice(0, HISTORY_LIMIT)
    }
    if (transition === null && (previous?.state !== agent.state || previous?.version !== agent.version)) void loadHistory(agent.id)
    render()
  }

  /** @param {import("./agentActions.js").AgentAction} action */
  const act = async (action) => {
    const agent = view.agent
    if (agent === null || (action.confirm !== undefined && !confirm(action.confirm))) return
    view.result = `${action.name}: sending…`
    render()
    const answer = await api(action.method, action.path(agent.id), action.body)
    const state = answer.body?.state
    view.result = answer.status < 300 ? `${action.name}: HTTP ${answer.status}, now ${state ?? "?"}` : `${action.name}: HTTP ${answer.status} ${answer.body?.detail ?? ""}`
    if (answer.status < 300 && typeof answer.body?.id === "string") onUpdate({ agent: answer.body, transition: null, cursor: null })
    else render()
  }

  const select = async () => {
    const id = selectedId()
    picker.show(id)
    view.agent = null
    view.history = []
    view.result = ""
    view.runner = "—"
    render()
    if (id === null) return
    const agent = await fetchAgent(id)
    if (id !== selectedId()) return
    view.agent = agent
    render()
    if (agent !== null) await Promise.all([loadHistory(id), loadRunner()])
  }

  /** Re-reads the owner of the selected agent's gateway (it moves when a runner stops). */
  const loadRunner = async () => {
    const agent = view.agent
    if (agent === null) return
    const runner = await gatewayRunner(api, agent.gateway_id)
    if (view.agent?.id !== agent.id || runner === view.runner) return
    view.runner = runner
    render()
  }

  const feed = startLiveFeed({
    token,
    selected: selectedId,
    fetchAgent,
    onUpdate,
    onMode: (mode) => {
      $("live-status").textContent = mode.detail
      $("live-status").dataset["mode"] = mode.kind
    },
    onUnauthorized: unauthorized
  })

  $("token-form").hidden = true
  document.body.classList.remove("signed-out")
  window.addEventListener("hashchange", () => void select())
  $("refresh-agents").addEventListener("click", () => void picker.load())
  // Relative times ("in 28 s") age; refresh them without redrawing anything else.
  setInterval(() => {
    for (const element of document.querySelectorAll("[data-at]")) element.textContent = timeText(element.getAttribute("data-at"), Date.now())
  }, 1_000)
  setInterval(() => void loadRunner(), 5_000)
  void picker.load().then(select)
}
