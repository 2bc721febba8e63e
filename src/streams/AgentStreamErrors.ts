import { Data } from "effect"

/**
 * A stream client fell more than `capacity` changes behind and was dropped instead of being
 * buffered without bound. Nothing is lost: the client reconnects with its `Last-Event-ID` and
 * the missed changes are replayed from the database.
 */
export class AgentStreamOverflow extends Data.TaggedError("AgentStreamOverflow")<{
  readonly capacity: number
}> {}

/**
 * The change listener's Postgres connection could not be opened (`phase: "connect"`), could not
 * LISTEN, or was lost afterwards (`"listening"`: an error, the server closing it, or a failed
 * health probe). The listener reconnects; `cause` is the driver's error.
 */
export class PgListenerLost extends Data.TaggedError("PgListenerLost")<{
  readonly phase: "connect" | "listen" | "listening"
  readonly cause: unknown
}> {}

/**
 * The service is shutting down: its streams end so that the HTTP server can close (it waits for
 * open responses). Clients reconnect, to another instance or later, with `Last-Event-ID`.
 */
export class AgentStreamClosed extends Data.TaggedError("AgentStreamClosed")<{}> {}
