import { Effect, Option } from "effect"
import { AgentRepo } from "../store/AgentRepo.ts"
import { BoardRepo } from "../store/BoardRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { type ApiError, notFound } from "./ApiError.ts"

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

/** The checks a change makes of the gateway and board it names; they fail with domain errors (docs/operations.md §6.12). */
export { activeGateway, namedBoard } from "../agents/activeGateway.ts"
