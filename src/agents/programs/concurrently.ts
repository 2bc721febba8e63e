import { Cause, Effect, Exit, Fiber } from "effect"

type Results<T extends ReadonlyArray<Effect.Effect<unknown, unknown, unknown>>> = { -readonly [K in keyof T]: Effect.Effect.Success<T[K]> }
/** The errors and requirements of a union of effects (never for none). */
type ErrorOf<U> = U extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
type ContextOf<U> = U extends Effect.Effect<infer _A, infer _E, infer R> ? R : never

/**
 * `Effect.all(effects, { concurrency: "unbounded" })` for a program's few effects, at a fraction of
 * its cost (one fork per effect and one wait, against its queue, latch and fiber set per call:
 * ~20 µs against ~100 µs for two effects; docs/architecture.md §5.6). The same contract: the
 * results in order; the first failure interrupts the others, waits for them to end, and fails
 * with its cause (beside the others' own failures, if any); an interruption of the caller
 * interrupts every effect and waits for them to end; each effect runs as interruptible as the
 * caller. Unlike `Effect.all`, FiberRef changes made inside the effects (none in the lifecycle
 * programs: their spans and annotations are scoped) do not reach the caller.
 */
export const concurrently = <const T extends ReadonlyArray<Effect.Effect<unknown, unknown, unknown>>>(
  effects: T
): Effect.Effect<Results<T>, ErrorOf<T[number]>, ContextOf<T[number]>> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      Effect.forEach(effects, (effect) => Effect.fork(restore(effect))),
      (fibers) => restore(awaitAll(fibers))
    )
  ) as Effect.Effect<Results<T>, ErrorOf<T[number]>, ContextOf<T[number]>>

/** The fibers' results in order, or the first failure once the others are interrupted and ended. */
const awaitAll = <A, E>(fibers: ReadonlyArray<Fiber.RuntimeFiber<A, E>>): Effect.Effect<ReadonlyArray<A>, E> =>
  Effect.async<ReadonlyArray<A>, E>((resume) => {
    const results = new Array<A>(fibers.length)
    let pending = fibers.length
    let ended = false
    fibers.forEach((fiber, index) =>
      fiber.addObserver((exit) => {
        if (ended) return
        if (Exit.isSuccess(exit)) {
          results[index] = exit.value
          if (--pending === 0) {
            ended = true
            resume(Effect.succeed(results))
          }
          return
        }
        ended = true
        const others = fibers.filter((other) => other !== fiber)
        resume(
          Effect.uninterruptible(Effect.flatMap(
            // All interrupted at once, then awaited (an uninterruptible one runs to its end).
            Effect.zipRight(Fiber.interruptAll(others), Effect.forEach(others, (other) => other.await)),
            (exits) =>
              Effect.failCause(
                exits.reduce<Cause.Cause<E>>(
                  (cause, other) => (Exit.isFailure(other) && !Cause.isInterruptedOnly(other.cause) ? Cause.parallel(cause, other.cause) : cause),
                  exit.cause
                )
              )
          ))
        )
      })
    )
    if (fibers.length === 0) {
      ended = true
      resume(Effect.succeed(results))
    }
    // The caller interrupted: every effect is interrupted, and ended before the caller goes on.
    return Effect.asVoid(Fiber.interruptAll(fibers))
  })
