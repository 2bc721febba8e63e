// @ts-check
import { h } from "./h.js"
import { PROBLEM_NAMES, problemOf } from "./fleetModel.js"
import { virtualList } from "./virtualList.js"

/**
 * @typedef {import("./agentDetails.js").Agent & { gateway_id?: string, board_id?: string | null, updated_at?: string }} ListedAgent
 * @typedef {import("./fleetModel.js").AgentFilter} AgentFilter
 * @typedef {{ gatewayName: (id: string) => string, boardName: (id: string | null) => string, runnerOf: (gatewayId: string) => string }} Names
 */

const PAGE = 200
const ROW_HEIGHT = 26
/** Load the next page when the view comes within this many rows of the last loaded one. */
const AHEAD = 100

/** @param {AgentFilter} filter */
const queryOf = (filter) => {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(filter)) if (value !== undefined && value !== "") params.set(name, value)
  return params
}

/**
 * Every live agent matching a filter, paged from `GET /api/v1/agents?after=` (keyset, 200 a page)
 * as the view scrolls, and drawn by a virtual list. A new filter starts again from the first
 * page; an answer for a filter no longer current is dropped. The scroll area is sized from
 * `expected(filter)` (the summary's count) when known, else from what is loaded plus one page.
 * The viewport carries `data-status` (`loading` | `ready`) and `data-loaded` for tests.
 * @param {{
 *   viewport: HTMLElement,
 *   api: import("./adminApi.js").AdminApi,
 *   names: Names,
 *   expected: (filter: AgentFilter) => number | null,
 *   onCount: (text: string) => void
 * }} options
 */
export function agentList({ viewport, api, names, expected, onCount }) {
  /** @type {Array<ListedAgent>} */
  let rows = []
  /** @type {Map<string, number>} */
  let indexOf = new Map()
  /** @type {string | null} */
  let next = null
  let loading = false
  let generation = 0
  /** @type {AgentFilter} */
  let filter = {}

  /** @param {ListedAgent | undefined} agent @param {number} index */
  const draw = (agent, index) => {
    if (agent === undefined) return h("div", { class: "row agent-row pending", role: "row", "data-index": index }, h("span", { class: "name" }, "…"))
    const problem = problemOf(agent)
    return h(
      "div",
      { class: `row agent-row${problem === null ? "" : " has-problem"}`, role: "row", "data-index": index, "data-agent-id": agent.id },
      h("a", { class: "name", href: `#agent=${encodeURIComponent(agent.id)}`, title: agent.id }, agent.name ?? agent.id),
      h("span", { class: "state", "data-status": agent.status ?? "" }, agent.state),
      h("span", { class: "status" }, agent.status ?? ""),
      h("span", { class: "gateway" }, names.gatewayName(agent.gateway_id ?? "")),
      h("span", { class: "board" }, names.boardName(agent.board_id ?? null)),
      h("span", { class: "runner" }, names.runnerOf(agent.gateway_id ?? "")),
      h("span", { class: `problem${problem === null ? "" : ` problem--${problem}`}`, title: problem ?? "" }, problem === null ? "" : (PROBLEM_NAMES[problem] ?? problem))
    )
  }

  const size = () => {
    const known = expected(filter)
    const count = known === null ? rows.length + (next === null ? 0 : PAGE) : Math.max(rows.length, next === null ? rows.length : known)
    const shown = next === null ? `${rows.length.toLocaleString("en")}` : known === null ? `${rows.length.toLocaleString("en")}+` : `${Math.max(known, rows.length).toLocaleString("en")}`
    onCount(`${shown} agent${shown === "1" ? "" : "s"}`)
    return count
  }

  const redraw = () => list.setRows(size(), (index) => rows[index])

  /** Loads the next page of the current filter if the view needs it. */
  const loadMore = async () => {
    if (loading || next === null) return
    const { last } = list.visibleRange()
    if (last + AHEAD < rows.length) return
    loading = true
    const mine = generation
    try {
      const params = queryOf(filter)
      params.set("limit", String(PAGE))
      params.set("after", next)
      const answer = await api("GET", `/api/v1/agents?${params}`)
      if (mine !== generation) return
      if (answer.status !== 200) {
        next = null
        onCount(`the list could not be read: HTTP ${answer.status} ${answer.body?.detail ?? ""}`)
        return
      }
      for (const agent of /** @type {Array<ListedAgent>} */ (answer.body.items)) {
        indexOf.set(agent.id, rows.length)
        rows.push(agent)
      }
      next = answer.body.next ?? null
      viewport.dataset["status"] = "ready"
      viewport.dataset["loaded"] = String(rows.length)
      redraw()
    } finally {
      if (mine === generation) loading = false
    }
    void loadMore()
  }

  const list = virtualList(viewport, ROW_HEIGHT, draw, () => void loadMore())

  return {
    /** The current filter (a copy). */
    filter: () => ({ ...filter }),
    /**
     * Shows the agents matching `nextFilter` from the first page; resolves once that page is
     * drawn (or dropped for a newer filter).
     * @param {AgentFilter} nextFilter
     */
    async setFilter(nextFilter) {
      filter = { ...nextFilter }
      generation += 1
      rows = []
      indexOf = new Map()
      next = ""
      loading = false
      viewport.dataset["status"] = "loading"
      viewport.dataset["q"] = filter.q ?? ""
      list.scrollToTop()
      await loadMore()
    },
    /** Redraws with the current rows (e.g. names or the summary changed). */
    redraw,
    /** Shows an agent's new state if it is loaded; the list keeps its order and members until the filter changes. @param {ListedAgent} agent */
    update(agent) {
      const index = indexOf.get(agent.id)
      if (index === undefined) return
      const known = rows[index]
      if (known !== undefined && typeof known.version === "number" && agent.version < known.version) return
      rows[index] = { ...known, ...agent }
      const { first, last } = list.visibleRange()
      if (index >= first - 10 && index <= last + 10) list.refresh()
    }
  }
}
