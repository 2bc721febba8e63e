// @ts-check
import { agentList } from "./agentList.js"
import { groupTable, stateCounts } from "./fleetCounts.js"
import { applyChange, expectedCount, orderedStates, PROBLEM_NAMES, problemKinds, STATUSES } from "./fleetModel.js"
import { h } from "./h.js"
import { problemList } from "./problemList.js"
import { isActive, syncJobsPanel } from "./syncJobsPanel.js"

/**
 * @typedef {import("./fleetModel.js").FleetSummary} FleetSummary
 * @typedef {import("./fleetModel.js").AgentFilter} AgentFilter
 * @typedef {{ id: string, name: string, status?: string }} Gateway
 * @typedef {{ id: string, name: string, gateway_id: string }} Board
 * @typedef {{ self?: string, runners: Array<{ address: string, healthy: boolean }>, gateways: Array<{ gateway_id: string, runner: string }> }} Cluster
 */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))

/** Groups in the order an operator looks for them: by name. @template {{ name: string }} G @param {Array<G>} groups */
const byName = (groups) => groups.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }))

/** A full summary replaces the live-updated one this often (it corrects anything the stream could not count, e.g. `stuck`). */
const RESYNC_MS = 30_000
/** Without the push stream, the summary is read this often instead. */
const POLL_MS = 5_000
/** Gateway reachability and the cluster's runners are read this often. */
const GATEWAYS_MS = 30_000
/** Sync jobs: often while one runs, rarely otherwise. */
const SYNC_ACTIVE_MS = 2_000
const SYNC_IDLE_MS = 30_000
/** A name search waits for typing to pause this long. */
const SEARCH_DEBOUNCE_MS = 120

/**
 * The fleet view (`/inspect` without `#agent=`): counts by state for the fleet, each gateway and
 * each board, kept current by the push stream; the problems first (unreachable or unpaired
 * gateways, then agents by problem kind); every agent in a searchable, filterable, virtualised
 * list; and the template-sync jobs. Everything is read through the admin API. When the
 * counts are first drawn it marks `fleet:counts` (performance timeline) for tests and benchmarks.
 * @param {{ api: import("./adminApi.js").AdminApi }} options
 */
export function fleetView({ api }) {
  /** @type {FleetSummary | null} */
  let summary = null
  /** @type {Map<string, Gateway>} */
  let gateways = new Map()
  /** @type {Map<string, Board>} */
  let boards = new Map()
  /** @type {Map<string, string> | null} gateway id → runner; null without a cluster */
  let runners = null
  let live = false
  let countsDrawn = false
  let drawScheduled = false
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let syncTimer

  const names = {
    gatewayName: (/** @type {string} */ id) => gateways.get(id)?.name ?? id.slice(0, 8),
    boardName: (/** @type {string | null} */ id) => (id === null ? "—" : boards.get(id)?.name ?? id.slice(0, 8)),
    runnerOf: (/** @type {string} */ id) => (runners === null ? "" : runners.get(id) ?? "unassigned")
  }

  const search = /** @type {HTMLInputElement} */ ($("agent-search"))
  const selects = {
    state: /** @type {HTMLSelectElement} */ ($("filter-state")),
    status: /** @type {HTMLSelectElement} */ ($("filter-status")),
    gateway_id: /** @type {HTMLSelectElement} */ ($("filter-gateway")),
    board_id: /** @type {HTMLSelectElement} */ ($("filter-board")),
    problem: /** @type {HTMLSelectElement} */ ($("filter-problem"))
  }

  const list = agentList({
    viewport: $("agent-list"),
    api,
    names,
    expected: (filter) => (summary === null ? null : expectedCount(summary, filter)),
    onCount: (text) => ($("agent-count").textContent = text)
  })

  /** The filter the controls show. @returns {AgentFilter} */
  const filterOfControls = () => {
    /** @type {Record<string, string>} */
    const filter = {}
    const q = search.value.trim()
    if (q !== "") filter["q"] = q
    for (const [name, select] of Object.entries(selects)) if (select.value !== "") filter[name] = select.value
    return filter
  }
  const applyFilter = () => list.setFilter(filterOfControls())

  /** Sets one control (the others cleared) and lists what it selects. @param {keyof typeof selects} name @param {string} value */
  const filterBy = (name, value) => {
    search.value = ""
    for (const [key, select] of Object.entries(selects)) {
      if (key === name && ![...select.options].some((option) => option.value === value)) select.append(h("option", { value }, value))
      select.value = key === name ? value : ""
    }
    void applyFilter()
    $("agents-section").scrollIntoView({ block: "nearest" })
  }

  const problems = problemList({ element: $("problem-list"), api, names, onShowAll: (kind) => filterBy("problem", kind) })

  /** Replaces a select's options, keeping its value. @param {HTMLSelectElement} select @param {string} any @param {Array<[string, string]>} options */
  const fill = (select, any, options) => {
    const value = select.value
    select.replaceChildren(h("option", { value: "" }, any), ...options.map(([key, label]) => h("option", { value: key }, label)))
    if (value !== "" && !options.some(([key]) => key === value)) select.append(h("option", { value }, value))
    select.value = value
  }

  const drawCounts = () => {
    drawScheduled = false
    if (summary === null) return
    $("fleet-counts").replaceChildren(...stateCounts(summary, (state) => (state === null ? filterBy("state", "") : filterBy("state", state))))
    const current = summary
    $("gateway-table").replaceChildren(
      groupTable({
        caption: "gateway",
        groups: byName(
          current.gateways.map((group) => ({
            key: group.gateway_id,
            name: names.gatewayName(group.gateway_id),
            ...(runners === null ? {} : { runner: names.runnerOf(group.gateway_id) }),
            total: group.total,
            by_state: group.by_state
          }))
        ),
        onPick: (id) => filterBy("gateway_id", id)
      })
    )
    $("board-table").replaceChildren(
      groupTable({
        caption: "board",
        groups: byName(
          current.boards.map((group) => ({
            key: group.board_id ?? "",
            name: `${group.board_id === null ? "no board" : names.boardName(group.board_id)} · ${names.gatewayName(group.gateway_id)}`,
            total: group.total,
            by_state: group.by_state
          }))
        ),
        onPick: (id) => (id === "" ? undefined : filterBy("board_id", id))
      })
    )
    problems.setCounts(problemKinds(current))
    // The list's size comes from these counts too.
    if (countsDrawn) list.redraw()
    if (!countsDrawn) {
      countsDrawn = true
      performance.mark("fleet:counts")
      document.body.dataset["countsDrawn"] = "true"
    }
  }
  const scheduleCounts = () => {
    if (drawScheduled) return
    drawScheduled = true
    requestAnimationFrame(drawCounts)
  }

  const fillFilters = () => {
    if (summary === null) return
    fill(selects.state, "any state", orderedStates(summary.by_state).map(([state]) => [state, state]))
    fill(selects.gateway_id, "any gateway", [...gateways.values()].map((gateway) => [gateway.id, gateway.name]))
    fill(selects.board_id, "any board", [...boards.values()].map((board) => [board.id, `${board.name} · ${names.gatewayName(board.gateway_id)}`]))
    fill(selects.problem, "any problem", problemKinds(summary).map(({ kind }) => [kind, PROBLEM_NAMES[kind] ?? kind]))
  }

  /** Reads the summary (and the first problems); a new one replaces the live-updated counts. */
  const loadSummary = async () => {
    const answer = await api("GET", "/api/v1/fleet/summary")
    if (answer.status !== 200) {
      $("fleet-counts").replaceChildren(h("p", { class: "error" }, `the fleet summary could not be read: HTTP ${answer.status} ${answer.body?.detail ?? ""}`))
      return
    }
    summary = /** @type {FleetSummary} */ (answer.body)
    drawCounts()
    fillFilters()
    list.redraw()
    await problems.load(problemKinds(summary))
  }

  /** Gateways (names, reachability, pairing) and the cluster's runners. */
  const loadGateways = async () => {
    const [gatewayAnswer, boardAnswer, clusterAnswer] = await Promise.all([
      api("GET", "/api/v1/gateways"),
      api("GET", "/api/v1/boards"),
      api("GET", "/api/v1/cluster")
    ])
    if (gatewayAnswer.status === 200) gateways = new Map(gatewayAnswer.body.items.map((/** @type {Gateway} */ gateway) => [gateway.id, gateway]))
    if (boardAnswer.status === 200) boards = new Map(boardAnswer.body.items.map((/** @type {Board} */ board) => [board.id, board]))
    // A single runner (the default, one process) owns everything: the column would say nothing.
    if (clusterAnswer.status === 200 && Array.isArray(clusterAnswer.body?.gateways) && clusterAnswer.body.runners?.length > 1) {
      const cluster = /** @type {Cluster} */ (clusterAnswer.body)
      const health = new Map(cluster.runners.map((runner) => [runner.address, runner.healthy]))
      runners = new Map(cluster.gateways.map((entry) => [entry.gateway_id, health.get(entry.runner) === false ? `${entry.runner} (unhealthy)` : entry.runner]))
    } else runners = null
    document.body.classList.toggle("no-cluster", runners === null)
    fillFilters()
    scheduleCounts()
    list.redraw()
    await loadGatewayProblems()
  }

  /** Each gateway's reachability (`GET /gateways/{id}/status`, bounded by the server): unreachable, awaiting pairing or being deleted. */
  const loadGatewayProblems = async () => {
    const checks = await Promise.all(
      [...gateways.values()].map(async (gateway) => {
        if (gateway.status === "deleting") return { gateway, kind: "deleting", detail: "being deleted" }
        const answer = await api("GET", `/api/v1/gateways/${encodeURIComponent(gateway.id)}/status`)
        const status = answer.body
        if (answer.status !== 200) return { gateway, kind: "unknown", detail: `status could not be read: HTTP ${answer.status}` }
        if (status.pairing !== null && status.pairing !== undefined) {
          return { gateway, kind: "pairing", detail: `awaiting pairing: approve request ${status.pairing.request_id ?? "?"} on the gateway host` }
        }
        if (status.connected !== true) return { gateway, kind: "unreachable", detail: `unreachable: ${status.error ?? "no connection"}` }
        return null
      })
    )
    const found = checks.filter((check) => check !== null)
    $("gateway-problems").replaceChildren(
      ...found.map(({ gateway, kind, detail }) =>
        h("li", { class: `gateway-problem gateway-problem--${kind}`, "data-gateway-id": gateway.id }, h("strong", {}, gateway.name), " ", detail)
      )
    )
  }

  const loadSyncJobs = async () => {
    clearTimeout(syncTimer)
    const answer = await api("GET", "/api/v1/templates/sync/jobs?limit=10")
    if (answer.status === 404) {
      $("sync-section").hidden = true
      return
    }
    const jobs = answer.status === 200 ? answer.body.items : []
    $("sync-jobs").replaceChildren(...syncJobsPanel(jobs, names, Date.now()))
    syncTimer = setTimeout(() => void loadSyncJobs(), jobs.some(isActive) ? SYNC_ACTIVE_MS : SYNC_IDLE_MS)
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let searchTimer
  search.addEventListener("input", () => {
    clearTimeout(searchTimer)
    searchTimer = setTimeout(() => void applyFilter(), SEARCH_DEBOUNCE_MS)
  })
  for (const select of Object.values(selects)) select.addEventListener("change", () => void applyFilter())
  fill(selects.status, "any status", STATUSES.map((status) => [status, status]))
  $("clear-filters").addEventListener("click", () => filterBy("state", ""))

  setInterval(() => void loadSummary(), RESYNC_MS)
  setInterval(() => {
    if (!live) void loadSummary()
  }, POLL_MS)
  setInterval(() => void loadGateways(), GATEWAYS_MS)

  return {
    /** Reads everything; the list starts unfiltered. */
    async start() {
      await Promise.all([loadSummary(), loadGateways(), list.setFilter(filterOfControls()), loadSyncJobs()])
    },
    /** One change from the push stream (or a poll, `transition` null). @param {import("./liveFeed.js").AgentUpdate} update */
    onUpdate({ agent, transition }) {
      const listed = /** @type {import("./agentList.js").ListedAgent} */ (/** @type {unknown} */ (agent))
      if (summary !== null && transition !== null && typeof transition.to === "string" && typeof listed.gateway_id === "string") {
        if (applyChange(summary, { from: transition.from ?? null, to: transition.to, gatewayId: listed.gateway_id, boardId: listed.board_id ?? null })) scheduleCounts()
      }
      list.update(listed)
      problems.update(listed)
    },
    /** The feed's mode: a (re)opened stream may have missed changes, so the summary is read again. @param {import("./liveFeed.js").FeedMode} mode */
    onMode(mode) {
      const wasLive = live
      live = mode.kind === "stream"
      if (live && !wasLive && summary !== null) void loadSummary()
    }
  }
}
