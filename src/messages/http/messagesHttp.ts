import { Effect, Option } from "effect"
import { agentHistory } from "../../agents/http/agentHistory.ts"
import { ApiError, notFound } from "../../http/ApiError.ts"
import { reply } from "../../http/Endpoint.ts"
import { serve } from "../../http/serve.ts"
import { MessageLedger } from "../MessageLedger.ts"
import { messagesApi } from "./messagesApi.ts"
import { messageView } from "./MessageView.ts"

/** The handlers of `messagesApi`: reads of the ledger only. */
export const messagesHttp = serve(messagesApi, {
  getMessage: ({ caller, params }) =>
    Effect.gen(function* () {
      const message = yield* Effect.flatMap(MessageLedger, (ledger) => ledger.get(params.id))
      if (Option.isNone(message)) return yield* notFound("message")
      if (caller.kind === "agent" && message.value.senderAgentId !== caller.agentId) {
        return yield* new ApiError({ status: 403, detail: "an agent may only look up the messages it sent" })
      }
      return reply(200, messageView(message.value))
    }),
  listAgentMessages: ({ params, query }) => agentHistory(params.id, query, (id, page) => Effect.flatMap(MessageLedger, (ledger) => ledger.forTarget(id, page)), messageView)
})
