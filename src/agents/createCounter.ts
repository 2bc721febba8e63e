import { Effect, Schedule } from "effect"

/**
 * Creates under way per gateway (a create, a reload or a restart of an actor): a gateway leaving
 * waits for them, so an agent started while its gateway moves is stopped and saved here before
 * the next owner restores it, never both (docs/architecture.md §11). `creatingFor(gatewayId, ±1)`
 * counts; `createsSettled(gatewayId)` waits (10 ms steps, `withinMs` at most) until none is under way.
 */
export const makeCreateCounter = (withinMs: number) => {
  const creating = new Map<string, number>()
  const creatingFor = (gatewayId: string, delta: number) => {
    const count = (creating.get(gatewayId) ?? 0) + delta
    if (count === 0) creating.delete(gatewayId)
    else creating.set(gatewayId, count)
  }
  const createsSettled = (gatewayId: string) =>
    Effect.suspend(() => (creating.has(gatewayId) ? Effect.fail("creating" as const) : Effect.void)).pipe(
      Effect.retry({ schedule: Schedule.spaced("10 millis"), times: Math.ceil(withinMs / 10) }),
      Effect.ignore
    )
  return { creatingFor, createsSettled }
}
