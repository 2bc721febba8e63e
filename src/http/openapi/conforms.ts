import type { z } from "zod"

type KeysOf<T> = T extends unknown ? keyof T : never

/**
 * `true` when the response schema `S` names exactly the fields the view `V` returns (over every
 * branch of a union); otherwise a type error that lists the fields missing on either side.
 */
export type Conforms<V, S extends z.ZodType> = [Exclude<KeysOf<V>, KeysOf<z.output<S>>>, Exclude<KeysOf<z.output<S>>, KeysOf<V>>] extends [never, never]
  ? true
  : { readonly notInSchema: Exclude<KeysOf<V>, KeysOf<z.output<S>>>; readonly notInView: Exclude<KeysOf<z.output<S>>, KeysOf<V>> }

/** Fails to compile unless `T` is `true`. */
export type Expect<T extends true> = T
