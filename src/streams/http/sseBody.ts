import { Sse } from "@effect/experimental"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Stream } from "effect"
import type { AgentChange } from "../AgentChangeFeed.ts"
import type { AgentStreamClosed, AgentStreamOverflow } from "../AgentStreamErrors.ts"
import { withPings } from "../sse.ts"
import { agentChangeEvent } from "./TransitionView.ts"

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
