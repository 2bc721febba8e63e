import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
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
