import { Effect, Option } from "effect"
import { BoardRepo } from "../store/BoardRepo.ts"
import { GatewayRepo } from "../store/GatewayRepo.ts"
import { FieldInvalid } from "./AgentChangeErrors.ts"
import { GatewayDeleting } from "./GatewayRowErrors.ts"

/**
 * The gateway that new boards and agents go on (docs/operations.md §6.1). Errors: FieldInvalid
 * (`gateway_id`: there is none), GatewayDeleting (its agents are being removed; nothing new may
 * land there), SqlError.
 */
export const activeGateway = (gatewayId: string) =>
  Effect.flatMap(GatewayRepo, (repo) => repo.get(gatewayId)).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(new FieldInvalid({ field: "gateway_id", problem: `no gateway ${gatewayId}` })), onSome: Effect.succeed })),
    Effect.filterOrFail(
      (gateway) => gateway.deletingAt === null,
      () => new GatewayDeleting({ gatewayId })
    )
  )

/** The board a change names in its `board_id`. Errors: FieldInvalid (there is none: bad input, not a missing resource), SqlError. */
export const namedBoard = (boardId: string) =>
  Effect.flatMap(BoardRepo, (repo) => repo.get(boardId)).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(new FieldInvalid({ field: "board_id", problem: `no board ${boardId}` })), onSome: Effect.succeed }))
  )
