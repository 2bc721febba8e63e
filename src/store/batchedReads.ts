import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit, Option } from "effect"
import { batchedStatements } from "./batchedStatements.ts"

/**
 * One-row reads by id, batched as group commit batches writes (docs/architecture.md §6.5,
 * `batchedStatements`): a read that finds none in flight starts one statement; reads that arrive
 * meanwhile share the next (each id once). A lone read waits for nobody; under load a statement
 * serves a whole batch. Each read answers its row as the statement that served it found it, none
 * when there is no such row, or that statement's SqlError. `readMany` must answer rows by their `id`.
 */
export const batchedReads = <R extends { readonly id: string }>(
  readMany: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<R>, SqlError>
): ((id: string) => Effect.Effect<Option.Option<R>, SqlError>) =>
  batchedStatements((ids: ReadonlyArray<string>) =>
    Effect.map(readMany([...new Set(ids)]), (rows) => {
      const byId = new Map(rows.map((row) => [row.id, row]))
      return ids.map((id) => Option.fromNullable(byId.get(id)))
    })
  )

/**
 * `batchedReads` whose rows are then opened (secrets decrypted, fields parsed) by `open`, once
 * per row and statement: each read answers its own row's opening, so a row that does not open
 * (`open` fails, or dies) fails or kills only the reads of that row, never the batch's others.
 */
export const batchedOpenedReads = <R extends { readonly id: string }, O>(
  readMany: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<R>, SqlError>,
  open: (row: R) => Effect.Effect<O, SqlError>
): ((id: string) => Effect.Effect<Option.Option<O>, SqlError>) => {
  const none = Exit.succeed(Option.none<O>())
  const read = batchedStatements((ids: ReadonlyArray<string>) =>
    readMany([...new Set(ids)]).pipe(
      Effect.flatMap((rows) => Effect.forEach(rows, (row) => Effect.map(Effect.exit(Effect.map(open(row), Option.some)), (opened) => [row.id, opened] as const))),
      Effect.map((opened) => {
        const byId = new Map(opened)
        return ids.map((id) => byId.get(id) ?? none)
      })
    )
  )
  return (id) => Effect.flatten(read(id))
}
