import { HttpRouter } from "@effect/platform"
import { Clock, Effect } from "effect"
import { AgentSystem } from "../../agents/AgentSystem.ts"
import { ActivityRepo } from "../../store/ActivityRepo.ts"
import { AgentRepo } from "../../store/AgentRepo.ts"
import { ApiError, conflict, invalid } from "../ApiError.ts"
import { createAgent } from "../createAgent.ts"
import { updateAgent } from "../updateAgent.ts"
import { answerAgent, checkWaitFor } from "../answerAgent.ts"
import { authenticate } from "../auth.ts"
import { AgentCreate, AgentListQuery, AgentUpdate, AgentUpdateQuery, IdParams, WaitQuery } from "../contract.ts"
import { decodeBody, decodeParams, decodeQuery } from "../decode.ts"
import { admin } from "../admin.ts"
import { agentHistory } from "../agentHistory.ts"
import { boardOrInvalid, existingAgent } from "../lookups.ts"
import { handle, json } from "../respond.ts"
import { activityView, agentView } from "../views.ts"

const forbidden = (detail: string) => new ApiError({ status: 403, detail })

/** The admin names the board. */
const adminBoard = (boardId: string | undefined) =>
  boardId === undefined ? Effect.fail(invalid("board_id: required")) : boardOrInvalid(boardId)

/**
 * A lead creates workers on its own board only, up to the board's `max_agents` (docs/operations.md §6.2;
 * 409 beyond it, enforced by `createAgent`); any other agent gets 403.
 */
const leadBoard = (callerId: string, body: { board_id?: string | undefined; is_board_lead: boolean }) =>
  Effect.gen(function* () {
    const caller = yield* existingAgent(callerId)
    if (caller.role !== "lead" || caller.boardId === null) return yield* forbidden("only a board lead may create agents")
    if (body.is_board_lead) return yield* forbidden("a lead cannot create another lead")
    if (body.board_id !== undefined && body.board_id !== caller.boardId) return yield* forbidden("a lead creates agents on its own board only")
    return yield* boardOrInvalid(caller.boardId)
  })

/**
 * A body-less lifecycle event for one agent (`agent.delete`, `agent.retry`): answers with the
 * read model, `accepted` while it is still under way, or 200 once `wait_for` is reached.
 */
const lifecycleEvent = (type: "agent.delete" | "agent.retry", accepted: 200 | 202) =>
  admin(
    Effect.gen(function* () {
      const { id } = yield* decodeParams(IdParams)
      const wait = yield* decodeQuery(WaitQuery)
      yield* checkWaitFor(wait)
      yield* existingAgent(id)
      const at = yield* Clock.currentTimeMillis
      yield* Effect.flatMap(AgentSystem, (system) => system.send(id, { type, at }))
      return yield* answerAgent(id, wait, wait.wait_for === undefined ? accepted : 200)
    })
  )

/**
 * `/api/v1/agents` (admin; a board lead may create workers). Handlers validate, send an event to the agent's actor (or create
 * it) and answer with the persisted read model; they never call the gateway.
 */
export const agentRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/agents",
    admin(
      Effect.gen(function* () {
        const query = yield* decodeQuery(AgentListQuery)
        const filter = {
          boardId: query.board_id,
          gatewayId: query.gateway_id,
          status: query.status,
          state: query.state,
          q: query.q,
          problem: query.problem,
          stuckAfterS: query.stuck_after_s
        }
        if (query.after !== undefined) {
          const after = query.after === "" ? undefined : query.after
          const keyset = yield* Effect.flatMap(AgentRepo, (repo) => repo.page({ ...filter, limit: query.limit, after }))
          return json({ items: keyset.items.map(agentView), limit: query.limit, next: keyset.next })
        }
        const page = yield* Effect.flatMap(AgentRepo, (repo) => repo.list({ ...filter, limit: query.limit, offset: query.offset }))
        return json({ items: page.items.map(agentView), total: page.total, limit: query.limit, offset: query.offset })
      })
    )
  ),
  HttpRouter.post(
    "/api/v1/agents",
    handle(
      Effect.gen(function* () {
        const caller = yield* authenticate
        const wait = yield* decodeQuery(WaitQuery)
        yield* checkWaitFor(wait)
        const body = yield* decodeBody(AgentCreate)
        const board = caller.kind === "admin" ? yield* adminBoard(body.board_id) : yield* leadBoard(caller.agentId, body)
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
        return yield* answerAgent(agentId, wait, 201)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agents/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        return json(agentView(yield* existingAgent(id)))
      })
    )
  ),
  HttpRouter.patch(
    "/api/v1/agents/:id",
    admin(
      Effect.gen(function* () {
        const { id } = yield* decodeParams(IdParams)
        const query = yield* decodeQuery(AgentUpdateQuery)
        yield* checkWaitFor(query)
        const body = yield* decodeBody(AgentUpdate)
        yield* updateAgent(yield* existingAgent(id), body, query.force)
        return yield* answerAgent(id, query)
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agents/:id/activity",
    agentHistory((id, page) => Effect.flatMap(ActivityRepo, (repo) => repo.forAgent(id, page)), activityView)
  ),
  HttpRouter.del("/api/v1/agents/:id", lifecycleEvent("agent.delete", 202)),
  HttpRouter.post("/api/v1/agents/:id/retry", lifecycleEvent("agent.retry", 200))
)
