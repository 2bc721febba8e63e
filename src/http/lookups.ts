import { Effect, Option } from "effect"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { type ApiError, conflict, invalid, notFound } from "./ApiError.ts"

/** The value, or `orElse` when there is none. */
const orFail =
  (orElse: () => ApiError) =>
  <A>(value: Option.Option<A>): Effect.Effect<A, ApiError> =>
    Option.isSome(value) ? Effect.succeed(value.value) : Effect.fail(orElse())

/** The agent's read model; 404 unless it exists and is not deleted. */
export const existingAgent = (id: string) => Effect.flatMap(AgentRepo, (repo) => repo.get(id)).pipe(Effect.flatMap(orFail(() => notFound("agent"))))

/** The gateway named in the path; 404 when there is none. */
export const existingGateway = (id: string) => Effect.flatMap(GatewayRepo, (repo) => repo.get(id)).pipe(Effect.flatMap(orFail(() => notFound("gateway"))))

/** The board named in the path; 404 when there is none. */
export const existingBoard = (id: string) => Effect.flatMap(BoardRepo, (repo) => repo.get(id)).pipe(Effect.flatMap(orFail(() => notFound("board"))))

/** The board named in a body's `board_id`; 422 when there is none (bad input, not a missing resource). */
export const boardOrInvalid = (boardId: string) =>
  Effect.flatMap(BoardRepo, (repo) => repo.get(boardId)).pipe(Effect.flatMap(orFail(() => invalid(`board_id: no board ${boardId}`))))

/**
 * The gateway that new boards and agents go on: 422 when there is none, 409 while it is being
 * deleted (its agents are being removed from it; nothing new may land there).
 */
export const activeGateway = (gatewayId: string) =>
  Effect.flatMap(GatewayRepo, (repo) => repo.get(gatewayId)).pipe(
    Effect.flatMap(orFail(() => invalid(`gateway_id: no gateway ${gatewayId}`))),
    Effect.filterOrFail(
      (gateway) => gateway.deletingAt === null,
      () => conflict(`gateway ${gatewayId} is being deleted`)
    )
  )
