import { Effect, Option } from "effect"
import { AgentRepo, type AgentRow } from "../store/AgentRepo.ts"
import { BoardRepo, type BoardRow } from "../store/BoardRepo.ts"
import { forbidden, invalid, notFound } from "./CoordinationErrors.ts"

/** Who calls a coordination operation: the operator, or an agent (its read model; the role is on the row). */
export type Actor = { readonly kind: "admin" } | { readonly kind: "agent"; readonly agent: AgentRow }

/** The calling agent's row (its token was just matched, so a miss means it was deleted meanwhile: 403). */
export const callerAgent = (agentId: string) =>
  Effect.flatMap(AgentRepo, (repo) => repo.get(agentId)).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(forbidden("this agent no longer exists")), onSome: Effect.succeed }))
  )

/**
 * The board `boardId` as `actor` may see it (docs/operations.md §6.2,
 * §6.11): the admin any board; a board agent
 * its own board only; the gateway-main agent the boards of its own gateway only, never
 * another's. 404 when there is no such board, 403 otherwise.
 */
export const boardFor = (actor: Actor, boardId: string) =>
  Effect.gen(function* () {
    const board = yield* Effect.flatMap(BoardRepo, (repo) => repo.get(boardId))
    if (Option.isNone(board)) return yield* notFound("board")
    if (actor.kind === "admin") return board.value
    const agent = actor.agent
    if (agent.role === "main") {
      if (agent.gatewayId !== board.value.gatewayId) return yield* forbidden("the gateway-main agent may only reach boards on its own gateway")
    } else if (agent.boardId !== board.value.id) {
      return yield* forbidden(`agent ${agent.name} may only reach its own board`)
    }
    return board.value
  })

/** The caller must be `board`'s lead (role tag `agent-lead`, docs/operations.md §6.2); 403 says which role it has. */
export const requireLead = (agent: AgentRow, board: BoardRow, action: string) =>
  agent.role === "lead" && agent.boardId === board.id
    ? Effect.void
    : Effect.fail(forbidden(`only the lead of board ${board.name} may ${action}; this agent is a ${agent.role}${agent.boardId === board.id ? "" : " of another board"}`))

/** `boardId` as its lead `agent` reaches it: 404 no such board, 403 another board's agent or not its lead. */
export const boardAsLead = (agent: AgentRow, boardId: string, action: string) =>
  Effect.tap(boardFor({ kind: "agent", agent }, boardId), (board) => requireLead(agent, board, action))

/** The caller must be the gateway-main agent (role tag `agent-main`, docs/operations.md §6.2). */
export const requireMain = (agent: AgentRow, action: string) =>
  agent.role === "main" ? Effect.void : Effect.fail(forbidden(`only the gateway-main agent may ${action}; this agent is a board ${agent.role}`))

/** A live agent of `board` (docs/operations.md §6.2): 404 for an agent elsewhere or deleted. */
export const agentOnBoard = (board: BoardRow, agentId: string) =>
  Effect.flatMap(AgentRepo, (repo) => repo.get(agentId)).pipe(
    Effect.flatMap((agent) => (Option.isSome(agent) && agent.value.boardId === board.id ? Effect.succeed(agent.value) : Effect.fail(notFound("agent on this board"))))
  )

/** The gateway-main agent of `board`'s gateway; 422 when the gateway has none. */
export const mainAgentOf = (board: BoardRow) =>
  Effect.flatMap(AgentRepo, (repo) => repo.mainOf(board.gatewayId)).pipe(
    Effect.flatMap((main) => (Option.isSome(main) ? Effect.flatMap(AgentRepo, (repo) => repo.get(main.value.id)) : Effect.succeed(Option.none()))),
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(invalid(`the gateway of board ${board.name} has no gateway-main agent`)), onSome: Effect.succeed }))
  )
