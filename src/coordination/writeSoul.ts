import { Clock, Effect } from "effect"
import { projectSnapshot } from "../agents/agentProjection.ts"
import { AgentSystem } from "../agents/AgentSystem.ts"
import { TemplateContext } from "../templates/TemplateContext.ts"
import { ActivityRepo } from "../store/ActivityRepo.ts"
import type { AgentRow } from "../store/AgentRepo.ts"
import { invalid } from "./CoordinationErrors.ts"

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g
/** The placeholders an override may use (src/templates/substitutePlaceholders.ts); never the token. */
const ALLOWED = new Set(Object.keys(TemplateContext.shape).filter((name) => name !== "auth_token"))

/** 422 now rather than a failed apply later: an override naming an unknown or forbidden `{{ placeholder }}` cannot render. */
const checkPlaceholders = (content: string) => {
  const bad = [...new Set([...content.matchAll(PLACEHOLDER)].map((match) => match[1]!).filter((name) => !ALLOWED.has(name)))]
  return bad.length === 0
    ? Effect.void
    : Effect.fail(invalid(`content: unknown or forbidden placeholder(s) ${bad.map((name) => `{{ ${name} }}`).join(", ")}; write them without the braces`))
}

export interface SoulWrite {
  readonly lead: AgentRow
  readonly target: AgentRow
  readonly content: string
  readonly reason?: string | undefined
  readonly sourceUrl?: string | undefined
  /** How long to wait for the re-apply to write the file, ms (0: answer at once). */
  readonly waitMs: number
}

/**
 * A lead sets an agent's SOUL.md (`PUT /api/v1/agent/boards/{b}/agents/{a}/soul`,
 * docs/operations.md §6.2): the text becomes the agent's stored `soulTemplate` override through
 * `agent.update` to its actor, which re-applies the workspace (SOUL.md rendered from the
 * override) without a wake, a token rotation or a session reset. So the override survives
 * template sync and restarts, and the write has the actor's retries and visible failure.
 * Activity `agent.soul.updated` with the reason and source. Output: whether the re-apply
 * finished within `waitMs`, and the agent's state then. Errors: CoordinationRefused (422 bad
 * placeholder), AgentNotFound, AgentsRestoring, AgentPersistTimeout, SqlError.
 */
export const writeSoul = Effect.fn("Coordination.writeSoul")(function* (write: SoulWrite) {
  yield* checkPlaceholders(write.content)
  const system = yield* AgentSystem
  const at = yield* Clock.currentTimeMillis
  // The snapshot the event produced, from the owner of the agent's gateway (any runner serves this).
  const sent = yield* system.send(write.target.id, {
    type: "agent.update",
    at,
    changes: { soulTemplate: write.content },
    options: { wake: false, rotateToken: false, resetSession: false }
  })
  const note = [`SOUL.md updated for ${write.target.name}.`, write.reason ? `Reason: ${write.reason}` : "", write.sourceUrl ? `Source: ${write.sourceUrl}` : ""]
  yield* Effect.flatMap(ActivityRepo, (activity) =>
    activity.record({ eventType: "agent.soul.updated", message: note.filter((part) => part !== "").join(" "), agentId: write.lead.id, boardId: write.target.boardId, gatewayId: write.target.gatewayId })
  )
  // The state then: the snapshot the wait ended on, or (no wait, or it timed out) the latest seen.
  const reached = write.waitMs <= 0
    ? { applied: false, snapshot: sent }
    : yield* system.waitFor(write.target.id, (snapshot) => !snapshot.hasTag("busy"), write.waitMs).pipe(
        Effect.map((snapshot) => ({ applied: true, snapshot })),
        Effect.catchTag("AgentWaitTimeout", () => Effect.succeed({ applied: false, snapshot: system.snapshot(write.target.id) ?? sent }))
      )
  const lastError = reached.snapshot.context.lastError ?? null
  return { applied: reached.applied && lastError === null, statePath: projectSnapshot(reached.snapshot).statePath, lastError }
})
