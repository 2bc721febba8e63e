import { createActor, fromCallback, SimulatedClock, type Snapshot } from "xstate"
import { agentMachine } from "../../machines/agent/agentMachine.ts"
import type { AgentEvent, AgentInput, ApplyInput, RemoveInput, StepError, WakeInput } from "../../machines/agent/agentTypes.ts"
import { agentDeadlines, armDeadline, type DeadlineHolder } from "../../src/agents/agentDeadlines.ts"

export const policy = {
  offlineAfterMs: 600_000,
  checkinTimeoutMs: 30_000,
  maxWakeAttempts: 3,
  maxAttempts: 3,
  retryBaseMs: 1_000
}

export const input: AgentInput = {
  agentId: "7b0c0a4e-0000-4000-8000-000000000001",
  gatewayId: "g1",
  boardId: "b1",
  role: "worker",
  gatewayAgentId: "mc-7b0c0a4e-0000-4000-8000-000000000001",
  sessionKey: "agent:mc-7b0c0a4e-0000-4000-8000-000000000001:main",
  spec: { name: "Ada", heartbeat: { every: "10m", target: "none" }, identityProfile: null, identityTemplate: null, soulTemplate: null },
  policy
}

type Outcome = "done" | StepError

/**
 * An agent actor on a SimulatedClock whose side-effect actors answer from scripted queues:
 * each invoke of `applyAgent`/`wakeAgent`/`removeAgent` takes the next outcome (default
 * "done"), so a test states exactly which gateway step fails and how. Deadlines are armed from
 * every snapshot as the service arms them (src/agents/agentDeadlines.ts), on the same clock.
 */
export const makeHarness = (
  options: {
    snapshot?: Snapshot<unknown>
    start?: number
    apply?: Outcome[]
    wake?: Outcome[]
    remove?: Outcome[]
    /** Overrides of the harness input (its spec, its policy). */
    input?: Partial<AgentInput>
    /** What a successful apply answers besides the token hash (e.g. the heartbeat it read back). */
    applyOutput?: Record<string, unknown>
  } = {}
) => {
  const clock = new SimulatedClock()
  clock.set(options.start ?? 1_000_000)
  const script = { apply: [...(options.apply ?? [])], wake: [...(options.wake ?? [])], remove: [...(options.remove ?? [])] }
  const calls = { apply: 0, wake: 0, remove: 0 }
  const wakeInputs: unknown[] = []
  const applyInputs: ApplyInput[] = []

  const scripted = <I>(step: "apply" | "wake" | "remove", output: unknown) =>
    fromCallback<AgentEvent, I>(({ sendBack, input }) => {
      calls[step] += 1
      if (step === "wake") wakeInputs.push(input)
      if (step === "apply") applyInputs.push(input as ApplyInput)
      const outcome = script[step].shift() ?? "done"
      const timer = clock.setTimeout(() => {
        const at = clock.now()
        sendBack(
          outcome === "done"
            ? ({ type: `${step}.done`, at, output } as AgentEvent)
            : ({ type: `${step}.failed`, at, error: { ...outcome, at } } as AgentEvent)
        )
      }, 10)
      return () => clock.clearTimeout(timer)
    })

  const logic = agentMachine.provide({
    actors: {
      applyAgent: scripted<ApplyInput>("apply", { tokenHash: "h".repeat(64), ...options.applyOutput }),
      wakeAgent: scripted<WakeInput>("wake", null),
      removeAgent: scripted<RemoveInput>("remove", null)
    }
  })
  const deadlines = agentDeadlines({
    now: () => clock.now(),
    setTimer: (run, delayMs) => clock.setTimeout(run, delayMs),
    clearTimer: (timer) => clock.clearTimeout(timer as number)
  })
  const actorInput: AgentInput = { ...input, ...options.input }
  const actor =
    options.snapshot === undefined
      ? createActor(logic, { input: actorInput, clock })
      : createActor(logic, { snapshot: options.snapshot, clock, input: actorInput })
  const holder: DeadlineHolder = { actor, deadline: undefined }
  actor.system.inspect((inspection) => {
    if (inspection.type === "@xstate.snapshot" && inspection.actorRef === actor) armDeadline(deadlines, holder)
  })
  actor.start()

  return {
    actor,
    clock,
    script,
    calls,
    wakeInputs,
    applyInputs,
    /** Moves time in small steps so that timers scheduled along the way fire in order. */
    advance: (ms: number) => {
      for (let left = ms; left > 0; left -= 5) clock.increment(Math.min(5, left))
      if (ms === 0) clock.increment(0)
    },
    send: (event: AgentEvent) => actor.send(event),
    now: () => clock.now(),
    state: () => JSON.stringify(actor.getSnapshot().value),
    context: () => actor.getSnapshot().context
  }
}

export const transientError = (step: StepError["step"]): StepError => ({
  tag: "GatewayConnectionError",
  message: "connection closed (1012): service restart",
  transient: true,
  step,
  at: 0
})

export const terminalError = (step: StepError["step"]): StepError => ({
  tag: "GatewayRpcError",
  message: "agents.create: INVALID_REQUEST invalid params",
  transient: false,
  step,
  at: 0
})
