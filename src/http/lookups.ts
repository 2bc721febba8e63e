import { Effect, Option } from "effect"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { type ApiError, invalid, notFound } from "./ApiError.ts"

/** The value, or `orElse` when there is none. */
const orFail =
  (orElse: () => ApiError) =>
  <A>(value: Option.Option<A>): Effect.Effect<A, ApiError> =>
    Option.isSome(value) ? Effect.succeed(value.value) : Effect.fail(orElse())

/** The agent's read model; 404 unless it exists and is not deleted. */
export const existingAgent = (id: string) => Effect.flatMap(AgentRepo, (repo) => repo.get(id)).pipe(Effect.flatMap(orFail(() => notFound("agent"))))

/** The board named in the path; 404 when there is none. */
export const existingBoard = (id: string) => Effect.flatMap(BoardRepo, (repo) => repo.get(id)).pipe(Effect.flatMap(orFail(() => notFound("board"))))

/** The board named in a body's `board_id`; 422 when there is none (bad input, not a missing resource). */
export const boardOrInvalid = (boardId: string) =>
  Effect.flatMap(BoardRepo, (repo) => repo.get(boardId)).pipe(Effect.flatMap(orFail(() => invalid(`board_id: no board ${boardId}`))))
