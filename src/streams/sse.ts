import { HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Queue, Stream, Take } from "effect"

/** Keeps idle proxies from closing a quiet stream (Mission Control pings every 15 s too; docs/operations.md §6.13). */
export const PING_EVERY = Duration.seconds(15)

/** Frames queued for one response ahead of its writer (the frames' fiber waits beyond it). */
const AHEAD = 16

/**
 * `frames` with a `: ping` comment every `pingEvery`; ends when `frames` does. The frames run on
 * one fiber of their own into a small queue that the pings join and the response reads: a
 * `Stream.merge` would fork a fiber per pull of every client (`bench/sseFanout.ts`).
 */
export const withPings = (frames: Stream.Stream<string>, pingEvery: Duration.DurationInput): Stream.Stream<string> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const out = yield* Effect.acquireRelease(Queue.bounded<Take.Take<string>>(AHEAD), Queue.shutdown)
      yield* Effect.forkScoped(Stream.runIntoQueue(frames, out))
      yield* Effect.forkScoped(Effect.forever(Effect.delay(Queue.offer(out, Take.of(": ping\n\n")), pingEvery)))
      return Stream.flattenTake(Stream.fromQueue(out))
    })
  )

/** A `text/event-stream` response of encoded SSE text, not cached and not buffered by proxies. */
export const eventStreamResponse = (body: Stream.Stream<string>) =>
  HttpServerResponse.stream(Stream.encodeText(body), {
    contentType: "text/event-stream",
    headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
  })
