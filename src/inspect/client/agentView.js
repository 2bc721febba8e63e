// @ts-check
import { actionBar } from "./actionBar.js"
import { agentDetails } from "./agentDetails.js"
import { gatewayRunner } from "./gatewayRunner.js"
import { drawStatechart } from "./drawStatechart.js"
import { historyRow, historyTable } from "./historyTable.js"
import { h } from "./h.js"
import { machineIndex } from "./machineIndex.js"

/**
 * The agent view (`/inspect#agent=<id>`): the agent statechart with the agent's state highlighted
 * live, beside its context, history and actions. The chart is drawn on first use (ELK's browser
 * build is loaded then, not with the fleet view) and needs no token.
 * @typedef {import("./agentDetails.js").Agent} Agent
 * @typedef {{ highlight: (statePath: string) => void }} Chart
 */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const HISTORY_LIMIT = 50

/** ELK's browser build (a classic script setting `window.ELK`), loaded once. @type {Promise<void> | null} */
let elkLoaded = null
const loadElk = () =>
  (elkLoaded ??= new Promise((resolve, reject) => {
    if ("ELK" in globalThis) return resolve()
    const script = document.createElement("script")
    script.src = "/inspect/assets/elk.bundled.js"
    script.addEventListener("load", () => resolve())
    script.addEventListener("error", () => reject(new Error("ELK could not be loaded")))
    document.head.append(script)
  }))

/** The machine, indexed, and its chart: read and laid out once. @type {Promise<{ index: import("./machineIndex.js").MachineIndex, chart: Chart }> | null} */
let drawn = null
/** Draws the statechart (if not yet drawn) and returns it with the machine's index. */
export const statechart = () =>
  (drawn ??= (async () => {
    const [definition] = await Promise.all([(await fetch("/api/v1/machines/agent")).json(), loadElk()])
    const index = machineIndex(definition)
    const chart = await drawStatechart(index, $("chart"), $("chart-tools"))
    return { index, chart }
  })())

/**
 * The agent pane, following `selectedId()` (null: nothing selected).
 * @param {{ api: import("./adminApi.js").AdminApi, selectedId: () => string | null }} options
 */
export function agentView({ api, selectedId }) {
  /** What the pane shows; `render()` draws it. */
  const view = {
    /** @type {Agent | null} */ agent: null,
    /** @type {Array<import("./historyTable.js").HistoryRow>} */ history: [],
    historySource: "",
    result: "",
    /** Which runner owns the selected agent's gateway (gatewayRunner.js). */
    runner: "—"
  }

  /** @param {string} id @returns {Promise<Agent | null>} */
  const fetchAgent = async (id) => {
    const answer = await api("GET", `/api/v1/agents/${encodeURIComponent(id)}`)
    return answer.status === 200 ? answer.body : null
  }

  const render = async () => {
    const { index, chart } = await statechart()
    const agent = view.agent
    const pane = $("agent-pane")
    $("nav-agent").textContent = agent === null ? "" : `› ${agent.name ?? agent.id}`
    if (agent === null) {
      pane.replaceChildren(h("p", { class: "empty" }, selectedId() === null ? "Pick an agent in the fleet view." : "Agent not found."))
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
    await render()
  }

  /** @param {import("./liveFeed.js").AgentUpdate} update */
  const onUpdate = ({ agent, transition, cursor }) => {
    if (agent.id !== selectedId()) return
    const previous = view.agent
    if (previous !== null && previous.id === agent.id && agent.version < previous.version) return
    view.agent = /** @type {Agent} */ (/** @type {unknown} */ (agent))
    const row = transition === null ? null : historyRow(transition, cursor === null ? null : Number(cursor))
    // A reload of the history may already hold what the stream now delivers.
    if (row !== null && !view.history.some((known) => known.cursor !== null && known.cursor === row.cursor)) {
      view.history = [row, ...view.history].slice(0, HISTORY_LIMIT)
    }
    if (transition === null && (previous?.state !== agent.state || previous?.version !== agent.version)) void loadHistory(agent.id)
    void render()
  }

  /** Re-reads the owner of the selected agent's gateway (it moves when a runner stops). */
  const loadRunner = async () => {
    const agent = view.agent
    if (agent === null) return
    const runner = await gatewayRunner(api, agent.gateway_id)
    if (view.agent?.id !== agent.id || runner === view.runner) return
    view.runner = runner
    await render()
  }
  setInterval(() => void loadRunner(), 5_000)

  /** @param {import("./agentActions.js").AgentAction} action */
  const act = async (action) => {
    const agent = view.agent
    if (agent === null || (action.confirm !== undefined && !confirm(action.confirm))) return
    view.result = `${action.name}: sending…`
    await render()
    const answer = await api(action.method, action.path(agent.id), action.body)
    const state = answer.body?.state
    view.result = answer.status < 300 ? `${action.name}: HTTP ${answer.status}, now ${state ?? "?"}` : `${action.name}: HTTP ${answer.status} ${answer.body?.detail ?? ""}`
    if (answer.status < 300 && typeof answer.body?.id === "string") onUpdate({ agent: answer.body, transition: null, cursor: null })
    else await render()
  }

  return {
    fetchAgent,
    onUpdate,
    /** Shows the agent `selectedId()` names: reads it, then its history. */
    async select() {
      const id = selectedId()
      view.agent = null
      view.history = []
      view.result = ""
      view.runner = "—"
      await render()
      if (id === null) return
      const agent = await fetchAgent(id)
      if (id !== selectedId()) return
      view.agent = agent
      await render()
      if (agent !== null) await Promise.all([loadHistory(id), loadRunner()])
    }
  }
}
