import { Clock, Context, Effect, Option } from "effect"
import { ApiError, invalid, notFound } from "../../http/ApiError.ts"
import type { Caller } from "../../http/auth.ts"
import { reply } from "../../http/Endpoint.ts"
import { namedBoard, existingAgent } from "../../http/lookups.ts"
import { serve } from "../../http/serve.ts"
import { ActivityRepo } from "../../store/ActivityRepo.ts"
import { AgentRepo, type AgentRow } from "../../store/AgentRepo.ts"
import { WorkspaceHashes } from "../../store/WorkspaceHashes.ts"
import { BoardRepo } from "../../store/BoardRepo.ts"
import { AgentSystem } from "../AgentSystem.ts"
import { GroupCommit } from "../../snapshots/GroupCommit.ts"
import { agentHistory } from "./agentHistory.ts"
import { agentsApi } from "./agentsApi.ts"
import { activityView, agentView, agentViewWithWorkspace } from "./AgentView.ts"
import { answerAgent, checkWaitFor, readModelReply, type WaitOptions } from "./answerAgent.ts"
import { createAgent } from "../createAgent.ts"
import { adoptAgent } from "../../fleet/adoptAgent.ts"
import { updateAgent } from "../updateAgent.ts"

const forbidden = (detail: string) => new ApiError({ status: 403, detail })

/** The admin names the board; a lead's agents go on its own board only, never as another lead (the table admits leads only). */
const boardFor = (caller: Caller, body: { readonly board_id?: string | undefined; readonly is_board_lead: boolean }) =>
  Effect.gen(function* () {
    if (caller.kind === "admin") return body.board_id === undefined ? yield* invalid("board_id: required") : yield* namedBoard(body.board_id)
    const lead = yield* existingAgent(caller.agentId)
    if (lead.boardId === null) return yield* forbidden("only a board lead may create agents")
    if (body.is_board_lead) return yield* forbidden("a lead cannot create another lead")
    if (body.board_id !== undefined && body.board_id !== lead.boardId) return yield* forbidden("a lead creates agents on its own board only")
    return yield* namedBoard(lead.boardId)
  })

/** A body-less lifecycle event for one agent: the read model, `accepted` while under way, or 200 once `wait_for` is reached. */
const lifecycleEvent = <const S extends 200 | 202>(id: string, wait: WaitOptions, type: "agent.delete" | "agent.retry", accepted: S) =>
  Effect.gen(function* () {
    yield* checkWaitFor(wait)
    yield* existingAgent(id)
    const at = yield* Clock.currentTimeMillis
    yield* Effect.flatMap(AgentSystem, (system) => system.send(id, { type, at }))
    return yield* answerAgent(id, wait, wait.wait_for === undefined ? accepted : 200)
  })

/** The agents' views with their last workspace-drift check (docs/operations.md §8), one query for the page. */
const withWorkspace = (rows: ReadonlyArray<AgentRow>) =>
  Effect.map(
    Effect.flatMap(WorkspaceHashes, (hashes) => hashes.checksOf(rows.map((row) => row.id))),
    (checks) => rows.map((row) => agentViewWithWorkspace(row, checks.get(row.id) ?? null))
  )

/**
 * Sends `agent.heartbeat` and answers with the persisted read model: as the batch that saved the
 * heartbeat left it when its actor runs here (`GroupCommit.follow`: no read), else read with the
 * other heartbeats' answers (`AgentRepo.readModel`; docs/architecture.md §6.5).
 */
const beat = (agentId: string, status: string | undefined) =>
  // One heartbeat after another comes through here: its services are read from the context once.
  Effect.clockWith((clock) =>
    Effect.contextWithEffect((context: Context.Context<AgentSystem | AgentRepo>) => {
      const at = clock.unsafeCurrentTimeMillis()
      const commits = Context.getOption(context, GroupCommit)
      // Followed and released as one resource: an interruption can never leave the follow open.
      return Effect.acquireUseRelease(
        Effect.sync(() => (Option.isSome(commits) ? commits.value.follow(agentId) : undefined)),
        (follow) => Effect.map(Context.get(context, AgentSystem).send(agentId, { type: "agent.heartbeat", at, status }), () => follow?.saved()),
        (follow) => Effect.sync(() => follow?.release())
      ).pipe(
        Effect.flatMap((saved) => {
          if (saved !== undefined) return Effect.succeed(reply(200, agentView(saved)))
          return Effect.flatMap(Context.get(context, AgentRepo).readModel(agentId), (row) => (Option.isNone(row) ? Effect.fail(notFound("agent")) : Effect.succeed(reply(200, agentView(row.value)))))
        })
      )
    })
  )

/** The handlers of `agentsApi`: they validate, send an event to the agent's actor (or create it) and answer with the read model; never the gateway. */
export const agentsHttp = serve(agentsApi, {
  listAgents: ({ query }) =>
    Effect.gen(function* () {
      const repo = yield* AgentRepo
      const filter = { boardId: query.board_id, gatewayId: query.gateway_id, status: query.status, state: query.state, q: query.q, problem: query.problem, stuckAfterS: query.stuck_after_s }
      if (query.after !== undefined) {
        const keyset = yield* repo.page({ ...filter, limit: query.limit, after: query.after === "" ? undefined : query.after })
        return reply(200, { items: yield* withWorkspace(keyset.items), limit: query.limit, next: keyset.next })
      }
      const page = yield* repo.list({ ...filter, limit: query.limit, offset: query.offset })
      return reply(200, { items: yield* withWorkspace(page.items), total: page.total, limit: query.limit, offset: query.offset })
    }),
  createAgent: ({ caller, query, body }) =>
    Effect.gen(function* () {
      yield* checkWaitFor(query)
      const board = yield* boardFor(caller, body)
      const agentId = yield* createAgent(board, {
        // The cap is counted under a per-board lock with the insert, so concurrent creates cannot pass it together.
        workerCap: caller.kind === "admin" ? undefined : board.maxAgents,
        name: body.name,
        role: body.is_board_lead ? "lead" : "worker",
        heartbeat: body.heartbeat_config,
        identityProfile: body.identity_profile,
        identityTemplate: body.identity_template,
        soulTemplate: body.soul_template
      })
      return yield* answerAgent(agentId, query, 201)
    }),
  adoptAgent: ({ params, query, body }) =>
    Effect.gen(function* () {
      yield* checkWaitFor(query)
      const agentId = yield* adoptAgent({
        gatewayId: params.id,
        gatewayAgentId: body.gateway_agent_id,
        boardId: body.board_id,
        name: body.name,
        keepFiles: body.keep_files,
        heartbeat: body.heartbeat_config
      })
      return yield* answerAgent(agentId, query, 201)
    }),
  getAgent: ({ params }) => Effect.flatMap(existingAgent(params.id), (row) => Effect.map(withWorkspace([row]), (items) => reply(200, items[0]!))),
  updateAgent: ({ params, query, body }) =>
    Effect.gen(function* () {
      yield* checkWaitFor(query)
      yield* updateAgent(yield* existingAgent(params.id), body, query.force)
      return yield* answerAgent(params.id, query, 200)
    }),
  deleteAgent: ({ params, query }) => lifecycleEvent(params.id, query, "agent.delete", 202),
  retryAgent: ({ params, query }) => lifecycleEvent(params.id, query, "agent.retry", 200),
  listAgentActivity: ({ params, query }) => agentHistory(params.id, query, (id, page) => Effect.flatMap(ActivityRepo, (repo) => repo.forAgent(id, page)), activityView),
  agentHeartbeat: ({ caller, body }) => beat(caller.agentId, body.status),
  heartbeatByName: ({ caller, body }) =>
    Effect.gen(function* () {
      // An agent heartbeats itself; `name` and `board_id` are ignored (docs/operations.md §6.2).
      if (caller.kind === "agent") return yield* beat(caller.agentId, body.status)
      if (body.board_id === undefined) return yield* invalid("board_id: required to find or create an agent by name")
      const boardId = body.board_id
      const board = yield* Effect.flatMap(BoardRepo, (repo) => repo.get(boardId))
      if (Option.isNone(board)) return yield* invalid(`board_id: no board ${boardId}`)
      const existing = yield* Effect.flatMap(AgentRepo, (repo) => repo.findByName({ name: body.name, boardId: board.value.id, gatewayId: board.value.gatewayId }))
      if (Option.isSome(existing)) return yield* beat(existing.value, body.status)
      const agentId = yield* createAgent(board.value, { name: body.name, role: "worker" })
      return yield* readModelReply(agentId, 201)
    }),
  heartbeatAgent: ({ caller, params, body }) =>
    caller.kind === "agent" && caller.agentId !== params.id ? Effect.fail(forbidden("an agent may only heartbeat itself")) : beat(params.id, body.status),
  listActivity: ({ caller, query }) =>
    Effect.gen(function* () {
      if (caller.kind === "agent" && query.agent_id !== undefined && query.agent_id !== caller.agentId) return yield* forbidden("an agent reads only its own activity")
      const agentId = caller.kind === "agent" ? caller.agentId : query.agent_id
      const page = yield* Effect.flatMap(ActivityRepo, (repo) => repo.page({ agentId, boardId: query.board_id, limit: query.limit, offset: query.offset }))
      return reply(200, { items: page.items.map(activityView), total: page.total, limit: query.limit, offset: query.offset })
    })
})
