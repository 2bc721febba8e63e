import { Deferred, Effect, Exit, Option, Redacted } from "effect"
import type { ApplyInput, ApplyOutput } from "../../../machines/agent/agentTypes.ts"
import { AppConfig } from "../../config/AppConfig.ts"
import { SUPPORTED_FILES } from "../../gateway/protocol.ts"
import { BoardRepo } from "../../store/BoardRepo.ts"
import { buildTemplateContext } from "../../templates/TemplateContext.ts"
import { PRESERVED_FILES, renderWorkspaceFiles, shouldIncludeBootstrap } from "../../templates/renderWorkspaceFiles.ts"
import { AgentConfigBatcher } from "../AgentConfigBatcher.ts"
import { sessionKeyFor, workspacePathFor, gatewayAgentIdFor } from "../naming.ts"
import { agentToken, wantsRecovery } from "./agentToken.ts"
import { concurrently } from "./concurrently.ts"
import { ensureGatewayAgent } from "./ensureGatewayAgent.ts"
import { gatewayCall } from "./gatewayCall.ts"
import { readEffectiveHeartbeat } from "./readEffectiveHeartbeat.ts"
import { loadPinnedGateway } from "./loadGateway.ts"
import { recordManagedFiles } from "./recordManagedFiles.ts"
import { removeGatewayAgent } from "./removeGatewayAgent.ts"

/**
 * The rows an apply reads before its gateway calls: its gateway (target pinned) and its board,
 * each through a read shared with the programs asking meanwhile. Side-effect free, so the bridge
 * runs it beside the write-ahead wait (`effectActor`'s `reads`, docs/architecture.md §4.1, §5.2).
 * Errors: GatewayNotFound, SqlError.
 */
export const applyReads = Effect.fn("Agents.applyReads")(function* (input: ApplyInput) {
  return yield* concurrently([
    // Pinned: a PATCH of the gateway's url or token mid-apply redoes the apply on the new target (docs/architecture.md §9.1).
    loadPinnedGateway(input.gatewayId),
    input.boardId === null ? Effect.succeed(Option.none()) : Effect.flatMap(BoardRepo, (repo) => repo.getShared(input.boardId!))
  ])
})

/** What `applyReads` read. */
export type ApplyReads = Effect.Effect.Success<ReturnType<typeof applyReads>>

/**
 * Applies an agent on its gateway, for action "provision" or "update"
 * (docs/architecture.md §5.2): ensure the session (`sessions.patch`) while creating the agent and
 * waiting until it is usable (an update reads its AGENTS.md meanwhile); then, at once, set its
 * display name and heartbeat config (batched per gateway, skipped when unchanged) and read back
 * the heartbeat the gateway runs (one `health` shared by the gateway's agents), and write its workspace: render the templates with the agent's token
 * (freshly minted, or recovered from the workspace when rotation is not asked; see `agentToken`)
 * and write every supported file, the writes in flight together (once the workspace has been
 * seeded, USER.md and MEMORY.md are kept unless `overwrite` is asked). The first of these to fail
 * fails the step and interrupts the rest; a file the gateway refuses as unsupported is only
 * logged; the hashes of the managed files written are recorded once the writes have settled, even
 * when the step then fails (workspace drift, docs/operations.md §8). An adopted agent's first apply skips
 * `agents.create` and, keeping its files, writes only AGENTS.md (docs/operations.md §6.2). Then the session is reset when asked; after a conversion,
 * the agent's old gateway agent is removed. Idempotent, because a restore re-runs it.
 * The config entry of an update of a seeded agent (no conversion) is asked from the start, beside
 * the preparation (the batcher's quick check), and again once the agent is prepared if this apply
 * had to create it (deleted outside Switchyard: its entry was not in the file); any other apply
 * asks once its agent is prepared (docs/architecture.md §5.2 step 3).
 * `read`: what `applyReads` read, when the caller read it already (else read here).
 * Output: the token's hash, where the token came from, and the effective heartbeat. Errors: GatewayError, TemplateRenderError, GatewayNotFound, SqlError.
 */
export const applyAgent = Effect.fn("Agents.apply")(function* (input: ApplyInput, read?: ApplyReads) {
  const config = yield* AppConfig
  const [{ gateway, target }, board] = read ?? (yield* applyReads(input))
  // An adopted agent's first apply takes over the agent as it is (docs/operations.md §6.2 "Adopt").
  const adopting = input.adoption != null && !input.workspaceSeeded && input.retired === null
  const keepFiles = adopting && input.adoption?.keepFiles === true

  const batcher = yield* AgentConfigBatcher
  const readAgentsMd = gatewayCall(target, "agents.files.get", { agentId: input.gatewayAgentId, name: "AGENTS.md" }).pipe(Effect.map((read) => read.file.content))
  // The session, then the agent: a first apply whose session cannot be set creates nothing on the
  // gateway. Once an apply has completed (an update, a template sync) both go out at once:
  // `sessions.patch` does not need the agent (docs/gateway-protocol.md §5). The agent exists before
  // anything is written to it; its file list is asked beside its create when it most likely exists. An update's AGENTS.md (its token) is read beside them: the agent most
  // likely exists; a read that lost the race with its create is made again.
  // An update of a seeded agent under its own identity most likely keeps its entry (a template
  // sync keeps every one): it is checked from the start, beside the preparation (AgentConfigBatcher's
  // quick batch, docs/architecture.md §5.6). A provision's entry, and a conversion's (a new gateway
  // agent, `workspaceSeeded` false), are asked once the agent is created (the create writes it).
  const unchangedLikely = input.request.action === "update" && input.workspaceSeeded && input.retired === null
  /** Completes once the agent is prepared: whether this apply had to create it. */
  const prepared = yield* Deferred.make<boolean>()
  /** The session and the agent (preparation), then the workspace files. */
  const workspaceStep = Effect.gen(function* () {
    const preparation = [
      gatewayCall(target, "sessions.patch", { key: input.sessionKey, label: input.spec.name }),
      ensureGatewayAgent(target, {
        gatewayAgentId: input.gatewayAgentId,
        workspace: workspacePathFor(gateway.workspaceRoot, input.gatewayAgentId),
        create: !adopting,
        likelyExists: input.workspaceSeeded
      })
    ] as const
    const [{ files: listed, reportedWorkspace, created }, earlyAgentsMd] = yield* concurrently([
      batcher.preparing(
        target.id,
        (input.workspaceSeeded ? concurrently(preparation) : Effect.all(preparation)).pipe(Effect.map(([, agent]) => agent))
      ),
      wantsRecovery(input) ? Effect.option(readAgentsMd) : Effect.succeedNone
    ])
    yield* Deferred.succeed(prepared, created)
    const existing = new Map(listed.map((file) => [file.name, { missing: file.missing === true }]))
    const agentsMd = existing.get("AGENTS.md")?.missing !== false ? Effect.succeed(undefined) : Option.isSome(earlyAgentsMd) ? Effect.succeed(earlyAgentsMd.value) : readAgentsMd
    // An adopted agent lives where the gateway keeps it; ours at the path of the naming contract (docs/architecture.md §5.1).
    const workspace = (input.adoption != null ? reportedWorkspace : undefined) ?? workspacePathFor(gateway.workspaceRoot, input.gatewayAgentId)

    const writeWorkspace = Effect.gen(function* () {
      const { token, hash, source } = yield* agentToken(input, agentsMd)
      const context = buildTemplateContext({
        agent: {
          id: input.agentId,
          name: input.spec.name,
          gatewayAgentId: input.gatewayAgentId,
          sessionKey: input.sessionKey,
          workspacePath: workspace,
          isBoardLead: input.role === "lead",
          isMainAgent: input.role === "main",
          identityProfile: input.spec.identityProfile,
          heartbeatEvery: input.spec.heartbeat.every
        },
        board: Option.match(board, {
          onNone: () => null,
          onSome: (row) => ({
            id: row.id,
            name: row.name,
            objective: row.objective,
            boardType: row.boardType,
            successMetrics: row.successMetrics,
            targetDate: row.targetDate,
            goalConfirmed: row.goalConfirmed
          })
        }),
        gateway: {
          workspaceRoot: gateway.workspaceRoot,
          mainSessionKey: sessionKeyFor(gatewayAgentIdFor("main", { agentId: input.agentId, boardId: null, gatewayId: gateway.id }))
        },
        baseUrl: config.baseUrl,
        authToken: Redacted.value(token)
      })
      // IDENTITY.md is writable but never listed by agents.files.list (docs/gateway-protocol.md §0.8).
      const supported = SUPPORTED_FILES.filter((name) => existing.has(name) || name === "IDENTITY.md" || PRESERVED_FILES.has(name))
      const rendered = yield* renderWorkspaceFiles({
        context,
        files: supported,
        includeBootstrap: !adopting && shouldIncludeBootstrap({ action: input.request.action, forceBootstrap: input.request.forceBootstrap, existing }),
        overrides: { identityTemplate: input.spec.identityTemplate, soulTemplate: input.spec.soulTemplate }
      })

      // The first apply replaces the gateway's own seeded USER.md; after that the agent's edits stand.
      // An adoption that keeps files writes only AGENTS.md: the token and check-in it cannot be managed without.
      // One that does not still keeps the USER.md and MEMORY.md the agent has: its own (docs/operations.md §6.2 "Adopt").
      const kept = (name: string) =>
        (keepFiles && name !== "AGENTS.md") ||
        ((input.workspaceSeeded || adopting) && input.request.overwrite !== true && PRESERVED_FILES.has(name) && existing.get(name)?.missing === false)
      // The hashes of the files written are recorded in one statement once the writes have settled,
      // even if the step then fails or is interrupted: the gateway holds them, so they are not drift
      // (docs/operations.md §8 "Workspace drift").
      const written: Array<{ readonly name: string; readonly content: string }> = []
      const record = recordManagedFiles(input.agentId, written)
      // Every file's write in flight at once (six at most).
      const writeAll = concurrently(
        [...rendered].filter(([name]) => !kept(name)).map(([name, content]) =>
          Effect.uninterruptibleMask((restore) =>
            restore(gatewayCall(target, "agents.files.set", { agentId: input.gatewayAgentId, name, content })).pipe(
              Effect.tap(() => Effect.sync(() => written.push({ name, content })))
            )
          ).pipe(
            Effect.catchIf(
              (error) => error._tag === "GatewayRpcError" && error.kind === "unsupported_file",
              () => Effect.logWarning(`gateway refused ${name} for ${input.gatewayAgentId}`)
            )
          )
        )
      )
      // The recording follows the writes in one uninterruptible step: nothing between them can skip it.
      yield* Effect.uninterruptibleMask((restore) =>
        restore(writeAll).pipe(
          Effect.onExit((exit) =>
            Exit.isSuccess(exit)
              ? Effect.void
              : record.pipe(Effect.catchAll((error) => Effect.logWarning(`recording the files written to ${input.gatewayAgentId} failed: ${error._tag}`)))
          ),
          Effect.zipRight(record)
        )
      )
      return { tokenHash: hash, tokenSource: source } satisfies ApplyOutput
    })
    return yield* writeWorkspace
  })

  // The config entry, then what the gateway runs now as it says (docs/operations.md §8; the machine
  // records a mismatch), beside the workspace writes. An update's request (`unchangedLikely`) may
  // take the read-back its quick batch sent beside the config.get.
  const setEntry = (quick: boolean) =>
    batcher.setThenReadBack(target, input.gatewayAgentId, { name: input.spec.name, heartbeat: input.spec.heartbeat }, { unchangedLikely: quick })
  const [effectiveHeartbeat, output] = yield* concurrently([
    Effect.flatMap(
      unchangedLikely
        ? // Asked before the preparation: were the agent made again meanwhile (deleted outside
          // Switchyard), its entry was not in the file yet; it is asked again now that it is.
          Effect.flatMap(setEntry(true), (early) => Effect.flatMap(Deferred.await(prepared), (created) => (created ? setEntry(false) : Effect.succeed(early))))
        : Effect.zipRight(Deferred.await(prepared), setEntry(false)),
      ({ readBack }) => readEffectiveHeartbeat(target, input.gatewayAgentId, readBack)
    ),
    workspaceStep
  ])
  if (input.request.resetSession) yield* gatewayCall(target, "sessions.reset", { key: input.sessionKey })
  // After a main⇄board conversion the old gateway agent goes only once the new one is complete.
  if (input.retired !== null) yield* removeGatewayAgent(target, input.retired.gatewayAgentId, input.retired.sessionKey)
  return { ...output, effectiveHeartbeat }
})
