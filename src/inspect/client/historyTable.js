// @ts-check
import { h } from "./h.js"
import { timeText } from "./timeText.js"

/**
 * @typedef {{ cursor: number | null, at: string | number | null, change: string, event: string, detail: string, failed: boolean }} HistoryRow
 *   `cursor`: the transition's place in the global log (none for activity); `failed`: the event
 *   carried an error (`detail` is its tag).
 */

/**
 * One row from either source: a transition (`GET …/transitions` or the push stream:
 * `{from, to, event, at, error_tag}`) or, where the server has no transition log, an activity
 * entry (`GET …/activity`: `{event_type, message, created_at}`).
 * @param {Record<string, any>} item
 * @param {number | null} [cursor] for a stream event, whose cursor is beside the transition
 * @returns {HistoryRow}
 */
export function historyRow(item, cursor = null) {
  const change = item.from !== undefined || item.to !== undefined ? `${item.from ?? "∅"} → ${item.to ?? "?"}` : ""
  return {
    cursor: typeof item.cursor === "number" ? item.cursor : cursor,
    at: item.at ?? item.created_at ?? null,
    change,
    event: String(item.event ?? item.event_type ?? ""),
    detail: String(item.error_tag ?? item.message ?? ""),
    failed: typeof item.error_tag === "string"
  }
}

/**
 * The agent's history, newest first.
 * @param {ReadonlyArray<HistoryRow>} rows
 * @param {string} source where the rows came from, shown in the caption
 * @param {number} now
 */
export function historyTable(rows, source, now) {
  const time = (/** @type {HistoryRow["at"]} */ at) => (at === null ? Number.NaN : typeof at === "number" ? at : Date.parse(at))
  const sorted = [...rows].sort((a, b) => (time(b.at) || 0) - (time(a.at) || 0))
  // The activity feed has no from → to: leave the column out rather than show it empty.
  const withChange = sorted.some((row) => row.change !== "")
  return h(
    "section",
    { class: "history" },
    h("h3", {}, "History ", h("small", {}, source)),
    sorted.length === 0
      ? h("p", { class: "empty" }, "nothing recorded yet")
      : h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, "when"), withChange && h("th", {}, "transition"), h("th", {}, "event"), h("th", {}, "detail"))),
          h(
            "tbody",
            {},
            ...sorted.map((row) =>
              h(
                "tr",
                {},
                h("td", { "data-at": row.at ?? "" }, timeText(row.at, now)),
                withChange && h("td", {}, row.change),
                h("td", {}, h("code", {}, row.event)),
                h("td", { class: row.failed ? "error" : "" }, row.detail)
              )
            )
          )
        )
  )
}
