// @ts-check
import { h } from "./h.js"
import { orderedStates, STATUSES, statusOf } from "./fleetModel.js"

/**
 * @typedef {import("./fleetModel.js").FleetSummary} FleetSummary
 * @typedef {import("./fleetModel.js").StateCounts} StateCounts
 */

/** Column headings that fit the side pane; the full name is the tooltip. */
const SHORT = /** @type {Record<string, string>} */ ({ provisioning: "prov.", updating: "upd.", deleting: "del." })

/** @param {number} count */
const number = (count) => count.toLocaleString("en")

/**
 * The fleet's counts by state: one button per state with agents (it filters the list below by
 * that state), the total first. Each carries `data-state` and `data-count`.
 * @param {FleetSummary} summary @param {(state: string | null) => void} onPick
 */
export function stateCounts(summary, onPick) {
  const chip = (/** @type {string | null} */ state, /** @type {number} */ count) => {
    const button = h(
      "button",
      { type: "button", class: `count${state === null ? " count--total" : ""}`, "data-state": state ?? "", "data-count": count, "data-status": state === null ? "" : statusOf(state) },
      h("span", { class: "count-value" }, number(count)),
      h("span", { class: "count-label" }, state ?? "agents")
    )
    button.addEventListener("click", () => onPick(state))
    return button
  }
  return [chip(null, summary.total), ...orderedStates(summary.by_state).map(([state, count]) => chip(state, count))]
}

/** Agents of `counts` whose state is under `status`. @param {StateCounts} counts @param {string} status */
const ofStatus = (counts, status) => Object.entries(counts).reduce((sum, [state, count]) => sum + (statusOf(state) === status ? count : 0), 0)

/** Agents of `counts` in a failed or retrying state. @param {StateCounts} counts @param {string} suffix */
const ending = (counts, suffix) =>
  Object.entries(counts).reduce((sum, [state, count]) => sum + (state.endsWith(suffix) || (suffix === ".retrying" && state.endsWith(".wakeRetrying")) ? count : 0), 0)

/**
 * A table of groups (gateways or boards): name, runner (gateways; hidden without a cluster),
 * total, then one column per top-level state and the failed and retrying agents among them. The
 * full state breakdown is each row's tooltip.
 * @param {{ caption: string, groups: Array<{ key: string, name: string, runner?: string, total: number, by_state: StateCounts }>, onPick: (key: string) => void }} options
 */
export function groupTable({ caption, groups, onPick }) {
  const withRunner = groups.some((group) => group.runner !== undefined)
  const head = h(
    "tr",
    {},
    h("th", {}, caption),
    withRunner ? h("th", { class: "runner" }, "runner") : null,
    h("th", { class: "num" }, "total"),
    ...STATUSES.map((status) => h("th", { class: "num", title: status }, SHORT[status] ?? status)),
    h("th", { class: "num", title: "in a failed state" }, "failed"),
    h("th", { class: "num", title: "in a retrying state" }, "retry")
  )
  const cell = (/** @type {number} */ count, /** @type {string} */ kind = "") => h("td", { class: `num${count > 0 && kind !== "" ? ` ${kind}` : ""}` }, count === 0 ? "·" : number(count))
  const rows = groups.map((group) => {
    const name = h("button", { type: "button", class: "link" }, group.name)
    name.addEventListener("click", () => onPick(group.key))
    return h(
      "tr",
      { "data-key": group.key, title: orderedStates(group.by_state).map(([state, count]) => `${state}: ${number(count)}`).join("\n") },
      h("td", {}, name),
      withRunner ? h("td", { class: "runner" }, group.runner ?? "") : null,
      cell(group.total),
      ...STATUSES.map((status) => cell(ofStatus(group.by_state, status), status === "offline" ? "warn" : "")),
      cell(ending(group.by_state, ".failed"), "bad"),
      cell(ending(group.by_state, ".retrying"), "warn")
    )
  })
  return h("table", { class: "groups" }, h("thead", {}, head), h("tbody", {}, ...rows))
}
