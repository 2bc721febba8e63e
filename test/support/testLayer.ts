import { Effect } from "effect"

/**
 * `stubs` as a full service: any other member dies with its name when called (or, for an
 * Effect-valued member such as `AgentRepo.live`, when run), so a test shows exactly what the code
 * under test uses (docs/architecture.md §10). The Effect examples' `makeTestLayer`.
 */
export const dieOnUnstubbed = <S extends object>(service: string, stubs: Partial<S>): S =>
  new Proxy(stubs as S, {
    get(target, prop, receiver) {
      if (prop in target || typeof prop === "symbol") return Reflect.get(target, prop, receiver)
      const dead = Effect.dieMessage(`${service}.${prop} is not stubbed by this test; the code under test should not call it`)
      const member = Object.assign(() => dead, dead)
      Object.setPrototypeOf(member, Object.getPrototypeOf(dead))
      return member
    }
  })
