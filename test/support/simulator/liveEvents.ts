import type { SimulatorContext } from "./SimulatorContext.ts"
import type { SimSession } from "./SimulatorState.ts"

/** What a run fails with on a gateway without model credentials (recorded on 2026.9.6, docs/gateway-protocol.md §10). */
export const NO_MODEL_AUTH = "No route-compatible authentication source is configured for openai."

/**
 * `sessions.changed` to the connections that called `sessions.subscribe`, shaped as the real
 * gateway's (`{sessionKey, agentId, reason, ts, session}`; docs/gateway-protocol.md §10).
 */
export function sessionChanged(ctx: SimulatorContext, session: SimSession, reason: string): void {
  const now = ctx.now()
  ctx.broadcast(
    "sessions.changed",
    {
      sessionKey: session.key,
      agentId: session.agentId,
      reason,
      ts: now,
      session: { key: session.key, agentId: session.agentId, kind: "direct", classification: "main", isMain: true, updatedAt: session.updatedAt, sessionId: session.sessionId }
    },
    "sessions"
  )
}

interface RunIds {
  readonly runId: string
  readonly sessionKey: string
  readonly agentId: string
  readonly isHeartbeat: boolean
}

const agentFrame = (ctx: SimulatorContext, run: RunIds, seq: number, stream: string, data: Record<string, unknown>) =>
  ctx.broadcast("agent", { runId: run.runId, stream, data, sessionKey: run.sessionKey, agentId: run.agentId, seq, ts: ctx.now(), isHeartbeat: run.isHeartbeat })

/** A run's first frames (`agent` run_status, `chat` status), as the real gateway sends them once a run starts. */
export function runStarted(ctx: SimulatorContext, run: RunIds): void {
  ctx.broadcast("chat", { runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId, seq: 1, state: "status", phase: "preparing_workspace" })
  agentFrame(ctx, run, 1, "run_status", { phase: "preparing_workspace" })
}

/** A run that fails for want of model credentials: lifecycle `model`, `fallback_step`, `error`, then `chat` error. */
export function runFailed(ctx: SimulatorContext, run: RunIds, startedAt: number): void {
  agentFrame(ctx, run, 2, "lifecycle", { phase: "model", provider: null, model: null })
  agentFrame(ctx, run, 3, "lifecycle", {
    phase: "fallback_step",
    fallbackStepType: "fallback_step",
    fallbackStepFromModel: "openai/gpt-6-astra",
    fallbackStepFromFailureReason: "auth",
    fallbackStepFromFailureDetail: NO_MODEL_AUTH,
    fallbackStepChainPosition: 1,
    fallbackStepFinalOutcome: "chain_exhausted"
  })
  agentFrame(ctx, run, 4, "lifecycle", { phase: "error", endedAt: ctx.now(), startedAt, error: NO_MODEL_AUTH, executionSettled: true })
  ctx.broadcast("chat", { runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId, seq: 4, state: "error", errorMessage: NO_MODEL_AUTH })
}

/** A run that ends well (a test double for a gateway with a model): lifecycle `end`, then `chat` final. */
export function runSucceeded(ctx: SimulatorContext, run: RunIds, startedAt: number): void {
  agentFrame(ctx, run, 2, "lifecycle", { phase: "end", endedAt: ctx.now(), startedAt, executionSettled: true })
  ctx.broadcast("chat", { runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId, seq: 2, state: "final", message: { role: "assistant", content: "HEARTBEAT_OK" } })
}
