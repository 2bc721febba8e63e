// @ts-check
import { h } from "./h.js"
import { KNOWN_PROBLEMS, PROBLEM_LABELS, PROBLEM_NAMES, problemOf, statusOf } from "./fleetModel.js"
import { timeText } from "./timeText.js"

/**
 * @typedef {import("./agentList.js").ListedAgent & {
 *   problem?: unknown, problem_detail?: unknown,
 *   liveness?: { offline_cause?: string | null, heartbeat_mismatch?: string | null } | null,
 *   workspace?: { checked_at?: string, drifted?: Array<string> } | null
 * }} ProblemAgent
 * @typedef {{ kind: string, count: number }} ProblemKind
 */

/** Agents shown per kind; the rest are one click away in the agent list (filtered by that kind). */
export const PER_KIND = 8
/**
 * Agents read per kind to pick the newest changes from: the list API's largest page. It pages in
 * creation order, so a kind with more agents than this shows the newest of its oldest 200 at load;
 * the push stream puts every new one on top.
 */
const READ_PER_KIND = 200

/** @param {ProblemAgent} agent @param {string} kind */
const detailOf = (agent, kind) => {
  if (typeof agent.problem_detail === "string" && agent.problem_detail !== "") return agent.problem_detail
  const error = agent.last_error
  if ((kind === "failed" || kind === "retrying") && error !== null && error !== undefined) {
    return `${error.tag ?? "error"} during ${error.step ?? "?"}: ${error.message ?? ""}`
  }
  if (kind === "offline" || kind === "gateway_missing") return agent.offline_reason ?? "no reason recorded"
  if (kind === "heartbeat_mismatch") return agent.liveness?.heartbeat_mismatch ?? agent.offline_reason ?? "heartbeat differs"
  if (kind === "drifted") {
    const files = agent.workspace?.drifted ?? []
    const checked = agent.workspace?.checked_at
    return `${files.length === 0 ? "drift" : files.join(", ")} differ${checked === undefined ? "" : `; checked ${timeText(checked, Date.now())}`}`
  }
  if (kind === "stuck") return `${statusOf(agent.state)}; last change ${timeText(agent.updated_at, Date.now())}`
  return agent.state
}

/** Newest change first: the failure that just happened is on top. @param {ProblemAgent} a @param {ProblemAgent} b */
const newestFirst = (a, b) => Date.parse(b.updated_at ?? "") - Date.parse(a.updated_at ?? "") || a.id.localeCompare(b.id)

/**
 * The problems-first list: per kind (most urgent first), the agents that have it, newest change
 * first (each agent once, under its most urgent kind), each linking to its statechart. Kinds come from the summary, so a kind this page does not
 * know (e.g. "missing on gateway") is listed with its name and the agent's state. `load` reads each
 * kind's first agents (`GET /api/v1/agents?problem=…`); `update` moves an agent between kinds as
 * the push stream reports its new state.
 * @param {{ element: HTMLElement, api: import("./adminApi.js").AdminApi, names: import("./agentList.js").Names, onShowAll: (kind: string) => void }} options
 */
export function problemList({ element, api, names, onShowAll }) {
  /** @type {Array<ProblemKind>} */
  let kinds = []
  /** @type {Map<string, Map<string, ProblemAgent>>} kind → agent id → agent */
  let byKind = new Map()
  let loaded = false

  const render = () => {
    /** @type {Array<HTMLElement>} */
    const items = []
    // An agent is listed once, under its most urgent kind (a retrying agent may be stuck too).
    /** @type {Set<string>} */
    const listed = new Set()
    for (const { kind, count } of kinds) {
      const agents = [...(byKind.get(kind)?.values() ?? [])]
        .filter((agent) => !listed.has(agent.id))
        .sort(newestFirst)
        .slice(0, PER_KIND)
      if (count === 0 && agents.length === 0) continue
      for (const agent of agents) listed.add(agent.id)
      const showAll = h("button", { type: "button", class: "link", title: "list them all in the agent list" }, "list all")
      showAll.addEventListener("click", () => onShowAll(kind))
      items.push(
        h("li", { class: `problem-kind problem--${kind}`, title: PROBLEM_LABELS[kind] ?? kind }, h("strong", {}, PROBLEM_NAMES[kind] ?? kind), ` ${count.toLocaleString("en")} `, showAll),
        ...agents.map((agent) =>
          h(
            "li",
            { class: `problem problem--${kind}`, "data-agent-id": agent.id, "data-kind": kind },
            h("a", { href: `#agent=${encodeURIComponent(agent.id)}`, class: "name" }, agent.name ?? agent.id),
            h("code", { class: "state" }, agent.state),
            h("span", { class: "where" }, `${names.gatewayName(agent.gateway_id ?? "")} / ${names.boardName(agent.board_id ?? null)}`),
            h("span", { class: "detail", title: detailOf(agent, kind) }, detailOf(agent, kind))
          )
        )
      )
    }
    if (items.length === 0) items.push(h("li", { class: "empty" }, loaded ? "No agent needs attention." : "reading the problems…"))
    element.replaceChildren(...items)
  }

  return {
    /** Reads the first agents of every kind with a count (`kinds` from the summary, in order). @param {Array<ProblemKind>} nextKinds */
    async load(nextKinds) {
      const pages = await Promise.all(
        nextKinds.map(async ({ kind, count }) => {
          if (count === 0) return /** @type {[string, Array<ProblemAgent>]} */ ([kind, []])
          const answer = await api("GET", `/api/v1/agents?problem=${encodeURIComponent(kind)}&limit=${READ_PER_KIND}&after=`)
          return /** @type {[string, Array<ProblemAgent>]} */ ([kind, answer.status === 200 ? answer.body.items : []])
        })
      )
      kinds = nextKinds
      byKind = new Map(pages.map(([kind, agents]) => [kind, new Map(agents.map((agent) => [agent.id, agent]))]))
      loaded = true
      render()
    },
    /** Counts changed (a fresh or live-updated summary). @param {Array<ProblemKind>} nextKinds */
    setCounts(nextKinds) {
      kinds = nextKinds
      render()
    },
    /**
     * Files an agent under the problem its new fields show (out of every other), or out of the
     * list when it has none. A `stuck` agent stays until its status changes; counts of `stuck`
     * and of the causes wait for the next summary.
     * @param {ProblemAgent} agent
     */
    update(agent) {
      // A stream update carries no `workspace` (list answers do): the one already known stays.
      /** @type {ProblemAgent | undefined} */
      let known
      for (const agents of byKind.values()) known ??= agents.get(agent.id)
      const merged = known === undefined || agent.workspace !== undefined ? { ...known, ...agent } : { ...known, ...agent, workspace: known.workspace ?? null }
      const kind = problemOf(merged)
      let changed = false
      for (const [listed, agents] of byKind) {
        if (listed === kind || !agents.has(agent.id)) continue
        // Kinds this page does not know stay until the next `load`; `stuck` until the status changes.
        const leaves = listed === "stuck" ? statusOf(merged.state) !== statusOf(agents.get(agent.id)?.state ?? "") : KNOWN_PROBLEMS.includes(listed)
        if (leaves) {
          agents.delete(agent.id)
          changed = true
        }
      }
      if (kind !== null) {
        if (!byKind.has(kind)) byKind.set(kind, new Map())
        byKind.get(kind)?.set(agent.id, merged)
        if (!kinds.some((entry) => entry.kind === kind)) kinds.push({ kind, count: 1 })
        changed = true
      }
      if (changed) render()
    }
  }
}
