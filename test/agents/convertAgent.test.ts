import { it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { describe, expect } from "vitest"
import { FieldInvalid, MainAgentTaken } from "../../src/agents/AgentChangeErrors.ts"
import { planConversion } from "../../src/agents/convertAgent.ts"
import { GatewayDeleting } from "../../src/agents/GatewayRowErrors.ts"
import type { AgentRow } from "../../src/store/AgentRepo.ts"
import type { BoardRow } from "../../src/store/BoardRepo.ts"
import { agentProjectionFixture } from "../support/agentProjectionFixture.ts"
import { makeFakeRepos, makeGatewayRecord } from "./fakeRepos.ts"

/**
 * `planConversion` (docs/operations.md §6.2) decides a main⇄board conversion from the read model
 * and fails with domain errors, never HTTP ones; `respond.ts` maps them (docs/architecture.md §7.3).
 */
const board = (id: string, gatewayId: string): BoardRow => ({
  id,
  gatewayId,
  name: `board ${id}`,
  boardType: "general",
  objective: null,
  successMetrics: null,
  targetDate: null,
  goalConfirmed: false,
  maxAgents: 1,
  paused: false,
  createdAt: new Date(0),
  updatedAt: new Date(0)
})

const agent = (fields: { id: string; role: "main" | "worker"; boardId: string | null }): AgentRow => ({
  ...agentProjectionFixture({ role: fields.role, boardId: fields.boardId }),
  id: fields.id,
  gatewayId: "gw-1",
  machineVersion: "1",
  version: "1",
  createdAt: new Date(0),
  updatedAt: new Date(0)
})

const WORKER = agent({ id: "7b0c0a4e-0000-4000-8000-000000000001", role: "worker", boardId: "b1" })
const MAIN = agent({ id: "7b0c0a4e-0000-4000-8000-000000000002", role: "main", boardId: null })

/** Runs `planConversion` over a store with gateway gw-1 (b1 on it, b2 on gw-2), after `arrange`. */
const plan = (row: AgentRow, toMain: boolean, boardId: string | undefined, arrange: (store: ReturnType<typeof makeFakeRepos>["store"]) => void = () => {}) => {
  const { store, layer } = makeFakeRepos()
  store.gateways.set("gw-1", makeGatewayRecord({ id: "gw-1", url: "ws://127.0.0.1:1", token: "t" }))
  store.boards.set("b1", board("b1", "gw-1"))
  store.boards.set("b2", board("b2", "gw-2"))
  arrange(store)
  return planConversion(row, toMain, boardId).pipe(Effect.provide(layer))
}

describe("planConversion: domain errors, nothing changed", () => {
  it.effect("to main while the gateway has another main agent: MainAgentTaken naming it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(plan(WORKER, true, undefined, (store) => store.mains.set("gw-1", { id: MAIN.id, sessionKey: MAIN.sessionKey })))
      expect(error).toBeInstanceOf(MainAgentTaken)
      expect(error.message).toBe(`gateway gw-1 already has a main agent (${MAIN.id}); convert it to a board agent first`)
    })
  )

  it.effect("to main on a gateway without one: the main identity, and the agent's tasks released", () =>
    Effect.gen(function* () {
      const planned = yield* plan(WORKER, true, undefined)
      expect(Option.getOrUndefined(planned)).toMatchObject({
        identity: { role: "main", boardId: null, gatewayAgentId: "mc-gateway-gw-1" },
        releaseTasks: true
      })
    })
  )

  it.effect("to a board without board_id, with an unknown one, or with one on another gateway: FieldInvalid on board_id", () =>
    Effect.gen(function* () {
      const errors = []
      for (const boardId of [undefined, "b9", "b2"]) errors.push(yield* Effect.flip(plan(MAIN, false, boardId)))
      expect(errors.every((error) => error instanceof FieldInvalid)).toBe(true)
      expect(errors.map((error) => error.message)).toEqual([
        "board_id: required to convert the gateway-main agent to a board agent",
        "board_id: no board b9",
        "board_id: board b2 is on another gateway"
      ])
    })
  )

  it.effect("on a gateway being deleted: GatewayDeleting", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(plan(MAIN, false, "b1", (store) => store.gateways.set("gw-1", { ...makeGatewayRecord({ id: "gw-1", url: "ws://127.0.0.1:1", token: "t" }), deletingAt: new Date(0) })))
      expect(error).toBeInstanceOf(GatewayDeleting)
    })
  )

  it.effect("to what the agent already is: nothing planned, nothing read", () =>
    Effect.gen(function* () {
      // No gateway at all: a plan that read anything would fail.
      expect(yield* plan(MAIN, true, undefined, (store) => store.gateways.clear())).toEqual(Option.none())
    })
  )
})
