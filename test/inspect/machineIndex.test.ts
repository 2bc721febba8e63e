import { createActor } from "xstate"
import { describe, expect, it } from "vitest"
import { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentEvent } from "../../machines/agent/agentTypes.ts"
import { activeStates, AGENT_ACTIONS, handlersOf, isAllowed, machineIndex, possibleTransitions } from "./clientModules.ts"
import { input } from "../machines/agentHarness.ts"

/** The definition exactly as `GET /api/v1/machines/agent` serves it. */
const definition = JSON.parse(JSON.stringify(agentMachine.config))
const index = machineIndex(definition)
const leaves = [...index.states.values()].filter((state) => state.children.length === 0).map((state) => state.path)

const targetsOf = (source: string, event: string) => index.transitions.filter((t) => t.source === source && t.event === event).map((t) => t.targets)

describe("machineIndex (the visualiser's reading of the served machine definition)", () => {
  it("indexes every state by path, nested as in the machine", () => {
    expect(leaves).toEqual(
      expect.arrayContaining(["provisioning.awaiting", "updating.wakeRetrying", "online", "offline", "deleting.removing", "deleting.failed", "deleted"])
    )
    expect(index.states.get("provisioning")?.children).toEqual(
      ["applying", "retrying", "wakeRetrying", "waking", "awaiting", "failed"].map((key) => `provisioning.${key}`)
    )
  })

  it("resolves targets as XState does: #id paths, .child of the declaring state, siblings", () => {
    expect(targetsOf("provisioning.applying", "apply.done")).toEqual([["online"], ["offline"], ["provisioning.waking"]])
    expect(targetsOf("", "agent.update")).toEqual([["updating"]])
    expect(targetsOf("deleting.retrying", "deadline.reached")).toEqual([["deleting.removing"]])
    expect(targetsOf("online", "system.policy")).toEqual([["online"]])
    // An online heartbeat stays in online without re-entering it: a targetless transition.
    expect(targetsOf("online", "agent.heartbeat")).toEqual([[]])
    expect(targetsOf("deleting.removing", "remove.done")).toEqual([["deleted"]])
    // Only the declared targetless ones are empty: nothing failed to resolve.
    const targetless = index.transitions.filter((t) => t.targets.length === 0).map((t) => `${t.source || "(machine)"} ${t.event}`)
    expect(targetless.sort()).toEqual([
      "(machine) agent.heartbeat",
      "(machine) gateway.*",
      "(machine) system.policy",
      "deleting agent.convert",
      "deleting agent.delete",
      "deleting agent.update",
      "online agent.heartbeat",
      "provisioning.awaiting gateway.run.started",
      "updating.awaiting gateway.run.started"
    ])
  })

  it("finds the innermost handler: deleting swallows agent.delete, except in deleting.failed", () => {
    expect(activeStates(index, "deleting.removing")).toEqual(["deleting.removing", "deleting", ""])
    expect(handlersOf(index, "deleting.removing", "agent.delete")).toMatchObject([{ source: "deleting", targets: [], actions: [] }])
    expect(handlersOf(index, "deleting.failed", "agent.delete").map((t) => t.targets)).toEqual([["deleted"], ["deleting.removing"]])
    expect(handlersOf(index, "provisioning.awaiting", "agent.delete")).toMatchObject([{ source: "", targets: ["deleting"] }])
    expect(handlersOf(index, "deleted", "agent.update")).toEqual([])
    expect(handlersOf(index, "no.such.state", "agent.update")).toEqual([])
  })

  it("lists what can fire in a state: the innermost handler of each event", () => {
    const labels = [...possibleTransitions(index, "provisioning.awaiting")].map((t) => `${t.event}${t.guard ? `[${t.guard}]` : ""}→${t.targets.join(",")}`)
    expect(labels.sort()).toEqual(
      [
        "agent.heartbeat→online",
        "deadline.reached[hasWakesLeft]→provisioning.waking",
        "deadline.reached→offline",
        "agent.update[isWantedUpdate]→updating",
        "agent.convert[isNewIdentity]→updating",
        "agent.delete→deleting",
        "system.policy→",
        "gateway.run.started[extendsCheckin]→provisioning.awaiting",
        "gateway.run.started→",
        "gateway.*→"
      ].sort()
    )
  })

  it("allows an action exactly where XState's own `snapshot.can` says the event does something", () => {
    // Never started: the snapshots are only asked what they can do.
    const context = createActor(agentMachine, { input }).getSnapshot().context
    const events: Record<string, AgentEvent> = {
      retry: { type: "agent.retry", at: 0 },
      update: { type: "agent.update", at: 0, changes: {}, force: true },
      delete: { type: "agent.delete", at: 0 }
    }
    const valueOf = (path: string) => path.split(".").reduceRight<unknown>((value, key) => (value === undefined ? key : { [key]: value }), undefined)
    for (const path of leaves.filter((leaf) => leaf !== "deleted")) {
      const snapshot = agentMachine.resolveState({ value: valueOf(path) as never, context })
      for (const action of AGENT_ACTIONS) {
        expect(isAllowed(index, path, action), `${action.name} in ${path}`).toBe(snapshot.can(events[action.name]!))
      }
    }
    // A final state takes no events at all: the actor is done.
    expect(AGENT_ACTIONS.filter((action) => isAllowed(index, "deleted", action))).toEqual([])
    expect(leaves.filter((path) => isAllowed(index, path, AGENT_ACTIONS[0]!)).sort()).toEqual(["deleting.failed", "offline", "provisioning.failed", "updating.failed"])
  })
})
