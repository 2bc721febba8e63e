import { Sse } from "@effect/experimental"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Stream } from "effect"
import { AgentChangeFeed, type AgentChange } from "../../streams/AgentChangeFeed.ts"
import type { AgentStreamClosed, AgentStreamOverflow } from "../../streams/AgentStreamErrors.ts"
import { eventStreamResponse, PING_EVERY, withPings } from "../../streams/sse.ts"
import { TransitionRepo } from "../../store/TransitionRepo.ts"
import { admin } from "../admin.ts"
import { agentHistory } from "../agentHistory.ts"
import { agentChangeEvent, AgentStreamQuery, lastEventIdOf, transitionView } from "../agentStreamContract.ts"
import { decodeQuery } from "../decode.ts"

export { PING_EVERY }

const frames = new WeakMap<AgentChange, string>()

/** One `agent` event; its JSON is built once however many clients receive the same change. */
const frame = (change: AgentChange): string => {
  let text = frames.get(change)
  if (text === undefined) {
    text = Sse.encoder.write({ _tag: "Event", event: "agent", id: String(change.cursor), data: JSON.stringify(agentChangeEvent(change)) })
    frames.set(change, text)
  }
  return text
}

const closing = (error: AgentStreamOverflow | AgentStreamClosed | SqlError) => {
  switch (error._tag) {
    case "AgentStreamOverflow":
      return `dropped: more than ${error.capacity} changes behind`
    case "AgentStreamClosed":
      return "closing: the service is shutting down"
    case "SqlError":
      return "closing: the database could not be read"
  }
}

/**
 * The text of an agent event stream: a `retry` hint first (it also sends the headers at once),
 * then one frame per change, with a `: ping` comment every `pingEvery` while it is quiet. A
 * client dropped for being slow, whose replay could not be read, or whose service is stopping,
 * gets a closing comment and the end of the stream; it reconnects with `Last-Event-ID` and
 * misses nothing.
 */
export const sseBody = (
  changes: Stream.Stream<AgentChange, AgentStreamOverflow | AgentStreamClosed | SqlError>,
  pingEvery: Duration.DurationInput
): Stream.Stream<string> => {
  const events = changes.pipe(
    Stream.map(frame),
    Stream.catchAll((error) => Stream.make(`: ${closing(error)}; reconnect with Last-Event-ID\n\n`))
  )
  const retry = Sse.encoder.write(new Sse.Retry({ duration: Duration.seconds(2), lastEventId: undefined }))
  return Stream.concat(Stream.make(retry), withPings(events, pingEvery))
}

/**
 * Push stream of agent changes and the transition history it is cut from (admin; docs/architecture.md §8).
 *
 * `GET /api/v1/agents/stream?board_id&gateway_id` is `text/event-stream`: every transition of
 * every matching agent as it commits, on whichever instance made it (heartbeats, going
 * offline, failures, deletion), as `event: agent`, `id: <cursor>`, `data: {cursor, version,
 * agent, transition: {from, to, event, at, error_tag}}`. The SSE `id` is the global
 * transitions cursor, not the agent's `version`: one `Last-Event-ID` must say how far a client
 * got across every agent of the stream, and only a cursor shared by all agents can; the
 * per-agent monotonic `version` is in the data. Reconnecting with `Last-Event-ID` (or
 * `?last_event_id=`) replays what was missed, then goes live without a gap or duplicate.
 * Nothing polls the database: see AgentChangeFeed.
 */
export const streamRoutes = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/v1/agents/stream",
    admin(
      Effect.gen(function* () {
        const query = yield* decodeQuery(AgentStreamQuery)
        const request = yield* HttpServerRequest.HttpServerRequest
        const header = yield* lastEventIdOf(request.headers["last-event-id"])
        const feed = yield* AgentChangeFeed
        const changes = feed.changes({ boardId: query.board_id, gatewayId: query.gateway_id }, header ?? query.last_event_id)
        return eventStreamResponse(sseBody(changes, PING_EVERY))
      })
    )
  ),
  HttpRouter.get(
    "/api/v1/agents/:id/transitions",
    agentHistory((id, page) => Effect.flatMap(TransitionRepo, (repo) => repo.forAgent(id, page)), transitionView)
  )
)
