import { HttpServerResponse } from "@effect/platform"
import { Duration, Stream } from "effect"

/** Keeps idle proxies from closing a quiet stream (Mission Control pings every 15 s too; docs/operations.md §6.13). */
export const PING_EVERY = Duration.seconds(15)

/** `frames` with a `: ping` comment every `pingEvery` while they are quiet; ends when `frames` does. */
export const withPings = (frames: Stream.Stream<string>, pingEvery: Duration.DurationInput): Stream.Stream<string> =>
  Stream.merge(frames, Stream.tick(pingEvery).pipe(Stream.drop(1), Stream.as(": ping\n\n")), { haltStrategy: "left" })

/** A `text/event-stream` response of encoded SSE text, not cached and not buffered by proxies. */
export const eventStreamResponse = (body: Stream.Stream<string>) =>
  HttpServerResponse.stream(Stream.encodeText(body), {
    contentType: "text/event-stream",
    headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
  })
