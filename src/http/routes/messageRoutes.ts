import { HttpRouter } from "@effect/platform"
import { Effect, Option } from "effect"
import { MessageLedger } from "../../messages/MessageLedger.ts"
import { admin } from "../admin.ts"
import { agentHistory } from "../agentHistory.ts"
import { ApiError, notFound } from "../ApiError.ts"
import { authenticate } from "../auth.ts"
import { messageView } from "../coordinationAnswers.ts"
import { MessageParams } from "../coordinationContract.ts"
import { decodeParams } from "../decode.ts"
import { handle, json } from "../respond.ts"

/**
 * Look-ups in the message ledger (docs/architecture.md §9.3): every send, from any feature, and how its
 * delivery stands (`status`, `attempts`, `last_error`). One message for the admin or the agent
 * that sent it; an agent's received messages, newest first, for the admin.
 */
export const messageRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/messages/:id",
    handle(
      Effect.gen(function* () {
        const caller = yield* authenticate
        const { id } = yield* decodeParams(MessageParams)
        const message = yield* Effect.flatMap(MessageLedger, (ledger) => ledger.get(id))
        if (Option.isNone(message)) return yield* notFound("message")
        if (caller.kind === "agent" && message.value.senderAgentId !== caller.agentId) {
          return yield* new ApiError({ status: 403, detail: "an agent may only look up the messages it sent" })
        }
        return json(messageView(message.value))
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agents/:id/messages",
    agentHistory((id, page) => Effect.flatMap(MessageLedger, (ledger) => ledger.forTarget(id, page)), messageView)
  )
)
