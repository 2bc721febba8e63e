// @ts-check
import { possibleTransitions } from "./machineIndex.js"
import { edgeLabel } from "./statechartGraph.js"
import { h } from "./h.js"
import { timeText } from "./timeText.js"

/**
 * @typedef {import("./machineIndex.js").MachineIndex} MachineIndex
 * @typedef {{ tag?: string, message?: string, step?: string, transient?: boolean, at?: number }} StepError
 * @typedef {{
 *   id: string, name?: string, role?: string, state: string, status?: string, version: number, gateway_id?: string,
 *   last_seen_at?: string | null, last_error?: StepError | null, offline_reason?: string | null,
 *   lifecycle?: { generation?: number, attempts?: number, wake_attempts?: number, deadline_at?: string | null, reported_status?: string | null, token_source?: string | null }
 * }} Agent
 */

/** @param {string | number | null | undefined} at @param {number} now */
const when = (at, now) => h("span", { "data-at": at ?? "" }, timeText(at, now))

/** @param {StepError | null | undefined} error */
const errorText = (error) =>
  error === null || error === undefined
    ? "—"
    : `${error.tag ?? "error"} during ${error.step ?? "?"} (${error.transient === true ? "transient" : "terminal"}): ${error.message ?? ""}`

/**
 * What can move the agent out of its state, read from the machine: the transitions with a
 * target that can fire there, the operator's machine-wide ones (update, delete) aside. This is
 * the "why is it stuck" answer: e.g. in `provisioning.awaiting`, a heartbeat or the deadline.
 * @param {MachineIndex} index @param {string} statePath
 */
const exits = (index, statePath) =>
  [...possibleTransitions(index, statePath)]
    .filter((transition) => transition.source !== "" && transition.targets.length > 0)
    .map((transition) => `${edgeLabel(transition)} → ${transition.targets.join(", ")}`)

/**
 * The selected agent's state and context: where it is, what it waits for and until when, how
 * often it tried, what failed last, when it was last heard from, and which runner hosts it.
 * @param {Agent} agent @param {MachineIndex} index @param {number} now
 * @param {string} [runner] the runner owning its gateway (see gatewayRunner.js)
 */
export function agentDetails(agent, index, now, runner = "—") {
  const lifecycle = agent.lifecycle ?? {}
  /** @type {Array<[string, Node | string]>} */
  const rows = [
    ["state", h("code", { id: "agent-state" }, agent.state)],
    ["waits for", h("ul", { class: "exits" }, ...exits(index, agent.state).map((exit) => h("li", {}, exit)))],
    ["deadline", when(lifecycle.deadline_at, now)],
    ["attempts", `${lifecycle.attempts ?? "—"} (wakes ${lifecycle.wake_attempts ?? "—"}, generation ${lifecycle.generation ?? "—"})`],
    ["last error", h("span", { class: agent.last_error ? "error" : "" }, errorText(agent.last_error))],
    ["last seen", when(agent.last_seen_at, now)],
    ["offline reason", agent.offline_reason ?? "—"],
    ["reported status", lifecycle.reported_status ?? "—"],
    ["role", `${agent.role ?? "—"} · version ${agent.version}`],
    ["runner", h("code", { id: "agent-runner" }, runner)]
  ]
  return h(
    "section",
    { class: "details" },
    h("h2", {}, agent.name ?? agent.id),
    h("p", { class: "agent-id" }, agent.id),
    h("dl", {}, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]))
  )
}
