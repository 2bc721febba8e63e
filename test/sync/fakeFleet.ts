import { Effect, Layer, Option } from "effect"
import { createActor, fromCallback, waitFor } from "xstate"
import { agentMachine, type AgentSnapshot } from "../../machines/agent/agentMachine.ts"
import type { AgentEvent, AgentInput, AgentPolicy, AgentRole, ApplyInput, ApplyRequest, RemoveInput, StepError, TokenSource, WakeInput } from "../../machines/agent/agentTypes.ts"
import { AgentNotFound, AgentSystem, AgentWaitTimeout, type AgentSystemShape } from "../../src/agents/AgentSystem.ts"
import { statePathOf } from "../../src/agents/agentProjection.ts"
import { AgentRepo, type AgentRepoShape, type AgentRow } from "../../src/store/AgentRepo.ts"
import { GatewayRepo, type GatewayRepoShape } from "../../src/store/GatewayRepo.ts"
import type { SyncCandidate } from "../../src/store/SyncJobRepo.ts"
import { dieOnUnstubbed } from "../support/testLayer.ts"

/** How one scripted apply ends: done, a step error, or never (hangs until interrupted). */
export type ApplyOutcome = "done" | StepError | "hang"

export interface ApplyCall {
  readonly agentId: string
  readonly generation: number
  readonly request: ApplyRequest
  readonly at: number
}

export interface FleetAgent {
  readonly id: string
  readonly name: string
  readonly boardId: string | null
  readonly role: AgentRole
}

export const GATEWAY_ID = "00000000-0000-4000-8000-00000000aaaa"

/**
 * Real agent-machine actors whose `applyAgent` is scripted per agent (default: done after
 * `applyMs`), behind the `AgentSystem` interface. It counts applies in flight, so a test can
 * check how many agents a sync works on at once. Wakes and removals succeed after 1 ms. Snapshots
 * are durable at once unless held (`holdSaves`).
 */
export const makeFakeFleet = (options: { applyMs?: number; policy?: Partial<AgentPolicy> } = {}) => {
  const applyMs = options.applyMs ?? 20
  const policy: AgentPolicy = { offlineAfterMs: 600_000, checkinTimeoutMs: 600_000, maxWakeAttempts: 3, maxAttempts: 1, retryBaseMs: 10, ...options.policy }
  const actors = new Map<string, ReturnType<typeof createActor<typeof logic>>>()
  const agents = new Map<string, FleetAgent>()
  const boards = new Map<string, { paused: boolean }>()
  const script = new Map<string, Array<ApplyOutcome>>()
  /** What a non-rotating apply reports for an agent (default recovered). */
  const tokenSources = new Map<string, TokenSource>()
  const applies: Array<ApplyCall> = []
  const wakes: Array<string> = []
  const flight = { now: 0, max: 0 }
  /** Agents whose snapshots are held unsaved (`holdSaves`): a durable `waitFor` waits for the release. */
  const unsaved = new Map<string, { promise: Promise<void>; fromGeneration: number }>()

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  }
  const logic = agentMachine.provide({
    actors: {
      applyAgent: fromCallback<AgentEvent, ApplyInput>(({ input, sendBack }) => {
        applies.push({ agentId: input.agentId, generation: input.generation, request: input.request, at: Date.now() })
        flight.now += 1
        flight.max = Math.max(flight.max, flight.now)
        let landed = false
        const land = () => {
          if (!landed) flight.now -= 1
          landed = true
        }
        const outcome = script.get(input.agentId)?.shift() ?? "done"
        if (outcome === "hang") return land
        const cancel = later(applyMs, () => {
          land()
          const at = Date.now()
          const tokenSource: TokenSource = input.request.rotateToken || input.tokenHash === null ? "minted" : (tokenSources.get(input.agentId) ?? "recovered")
          sendBack(
            outcome === "done"
              ? { type: "apply.done", at, output: { tokenHash: `hash-${input.agentId}-${input.generation}`, tokenSource } }
              : { type: "apply.failed", at, error: { ...outcome, at } }
          )
        })
        return () => {
          cancel()
          land()
        }
      }),
      wakeAgent: fromCallback<AgentEvent, WakeInput>(({ input, sendBack }) => {
        wakes.push(input.agentId)
        return later(1, () => sendBack({ type: "wake.done", at: Date.now(), output: null }))
      }),
      removeAgent: fromCallback<AgentEvent, RemoveInput>(({ sendBack }) => later(1, () => sendBack({ type: "remove.done", at: Date.now(), output: null })))
    }
  })

  const spawn = (agent: FleetAgent) => {
    const input: AgentInput = {
      agentId: agent.id,
      gatewayId: GATEWAY_ID,
      boardId: agent.boardId,
      role: agent.role,
      gatewayAgentId: `mc-${agent.id}`,
      sessionKey: `agent:mc-${agent.id}:main`,
      spec: { name: agent.name, heartbeat: { every: "10m", target: "none" }, identityProfile: null, identityTemplate: null, soulTemplate: null },
      policy
    }
    const actor = createActor(logic, { input })
    actor.subscribe({ complete: () => actors.delete(agent.id) })
    agents.set(agent.id, agent)
    actors.set(agent.id, actor)
    actor.start()
    return actor
  }

  const require = (agentId: string) => {
    const actor = actors.get(agentId)
    return actor === undefined ? Effect.fail(new AgentNotFound({ agentId })) : Effect.succeed(actor)
  }

  const system: AgentSystemShape = {
    create: (request) =>
      Effect.sync(() => spawn({ id: request.agentId, name: request.spec.name, boardId: request.boardId, role: request.role }).getSnapshot()),
    send: (agentId, event) => Effect.map(require(agentId), (actor) => (actor.send(event), actor.getSnapshot())),
    waitFor: (agentId, predicate, timeoutMs, waitOptions) =>
      Effect.flatMap(require(agentId), (actor) =>
        Effect.tryPromise({
          try: async (signal) => {
            const snapshot = await waitFor(actor, predicate, { timeout: timeoutMs, signal })
            const held = unsaved.get(agentId)
            if (waitOptions?.durable !== false && held !== undefined && snapshot.context.generation >= held.fromGeneration) await held.promise
            return snapshot
          },
          catch: () => new AgentWaitTimeout({ agentId, timeoutMs, statePath: statePathOf(actor.getSnapshot().value) })
        })
      ),
    restoreAll: Effect.dieMessage("restoreAll is not part of a sync"),
    readiness: Effect.succeed({ state: "ready" }),
    snapshot: (agentId) => actors.get(agentId)?.getSnapshot(),
    requireActor: (agentId) => Effect.asVoid(require(agentId))
  }

  const live = (id: string) => actors.has(id)
  const agentRepo: Partial<AgentRepoShape> = {
    mainOf: (gatewayId) =>
      Effect.sync(() => {
        const main = [...agents.values()].find((agent) => agent.role === "main" && live(agent.id))
        return gatewayId === GATEWAY_ID && main !== undefined ? Option.some({ id: main.id, sessionKey: `agent:mc-${main.id}:main` }) : Option.none()
      }),
    nameTaken: ({ name }) => Effect.sync(() => [...agents.values()].some((agent) => live(agent.id) && agent.name === name)),
    get: (id) => Effect.sync(() => (live(id) ? Option.some({ id } as AgentRow & { snapshot: unknown }) : Option.none()))
  }
  const gatewayRepo: Partial<GatewayRepoShape> = {
    get: (id) => Effect.sync(() => (id === GATEWAY_ID ? Option.some({ id, name: "Fleet", url: "ws://127.0.0.1:1", workspaceRoot: "/w", deletingAt: null, createdAt: new Date(0), updatedAt: new Date(0) } as never) : Option.none()))
  }

  return {
    system,
    applies,
    wakes,
    flight,
    script,
    tokenSources,
    boards,
    /** AgentSystem, AgentRepo and GatewayRepo over this fleet. */
    layer: Layer.mergeAll(
      Layer.succeed(AgentSystem, system),
      Layer.succeed(AgentRepo, dieOnUnstubbed<AgentRepoShape>("AgentRepo", agentRepo)),
      Layer.succeed(GatewayRepo, dieOnUnstubbed<GatewayRepoShape>("GatewayRepo", gatewayRepo))
    ),
    /**
     * Holds the agent's snapshots of `fromGeneration` on unsaved: a `waitFor` that asks for
     * durability waits until the returned release is called (a slow database, for that agent only).
     */
    holdSaves: (agentId: string, fromGeneration: number) => {
      let release = () => {}
      const promise = new Promise<void>((resolve) => (release = resolve))
      unsaved.set(agentId, { promise, fromGeneration })
      return () => {
        unsaved.delete(agentId)
        release()
      }
    },
    /** Starts an actor for the agent (it begins provisioning). */
    add: (agent: FleetAgent) => spawn(agent),
    /** Adds the agent and brings it online: provisioned, woken, one heartbeat. */
    addOnline: async (agent: FleetAgent) => {
      const actor = spawn(agent)
      await waitFor(actor, (snapshot) => snapshot.matches({ provisioning: "awaiting" }), { timeout: 5_000 })
      actor.send({ type: "agent.heartbeat", at: Date.now() })
    },
    send: (agentId: string, event: AgentEvent) => actors.get(agentId)!.send(event),
    snapshot: (agentId: string): AgentSnapshot | undefined => actors.get(agentId)?.getSnapshot(),
    state: (agentId: string) => {
      const snapshot = actors.get(agentId)?.getSnapshot()
      return snapshot === undefined ? "gone" : statePathOf(snapshot.value)
    },
    /** The live agents as the sync's selection query would list them, oldest first. */
    candidates: (): Array<SyncCandidate> =>
      [...agents.values()]
        .filter((agent) => live(agent.id))
        .map((agent) => ({
          id: agent.id,
          name: agent.name,
          boardId: agent.boardId,
          role: agent.role,
          boardFound: agent.boardId !== null && boards.has(agent.boardId),
          boardPaused: agent.boardId !== null && boards.get(agent.boardId)?.paused === true
        })),
    stop: () => {
      for (const actor of actors.values()) actor.stop()
    }
  }
}

export type FakeFleet = ReturnType<typeof makeFakeFleet>
