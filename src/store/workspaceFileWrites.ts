import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Exit, Option } from "effect"
import { batchedStatements } from "./batchedStatements.ts"
import { belongsToOneCall } from "./sqlErrors.ts"

interface Written {
  readonly agentId: string
  readonly files: ReadonlyArray<{ readonly name: string; readonly sha256: string }>
}

/** Whether a shared statement's calls are made again one by one: it failed because of one call's rows. */
const redoEach = (exit: Exit.Exit<void, SqlError>, calls: number) =>
  calls > 1 && Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), belongsToOneCall)

/**
 * `WorkspaceHashes.recordWritten` as a group commit write (docs/architecture.md §6.5,
 * `batchedStatements`): the calls that arrive while one statement is being written share the
 * next, ONE statement that upserts every file and clears them from their agents' drift lists
 * (docs/operations.md §8 "Workspace drift"). Each caller is answered when that statement
 * completes. A shared statement that fails because of one call's rows (`belongsToOneCall`: its
 * agent gone meanwhile) is made again call by call, so one agent's failure is not its
 * neighbours'; any other failure (the database unreachable, the statement timed out) answers
 * every caller at once, so none waits for a redo of its own (docs/architecture.md §5.2 step 6).
 */
export const workspaceFileWrites = (sql: SqlClient.SqlClient) => {
  const statement = (calls: ReadonlyArray<Written>) => {
    // The newest call's hash of a file wins, as one statement after the other would; in (agent, name) order.
    const rows = new Map<string, { agent_id: string; name: string; sha256: string }>()
    for (const { agentId, files } of calls) for (const file of files) rows.set(`${agentId}\u0000${file.name}`, { agent_id: agentId, name: file.name, sha256: file.sha256 })
    const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row)
    return sql`with v as (
        select * from jsonb_to_recordset(${JSON.stringify(sorted)}::jsonb) as v(agent_id uuid, name text, sha256 text)
      ), written as (
        insert into agent_workspace_files (agent_id, name, sha256) select agent_id, name, sha256 from v
        on conflict (agent_id, name) do update set sha256 = excluded.sha256, written_at = now()
        returning 1
      )
      update agent_workspace_checks c
      set drifted = coalesce((select jsonb_agg(n order by n) from jsonb_array_elements_text(c.drifted) n where n not in (select v.name from v where v.agent_id = c.agent_id)), '[]'::jsonb)
      where c.agent_id in (select agent_id from v)`.pipe(Effect.asVoid)
  }
  const batch = batchedStatements((calls: ReadonlyArray<Written>) =>
    Effect.flatMap(Effect.exit(statement(calls)), (exit): Effect.Effect<ReadonlyArray<Exit.Exit<void, SqlError>>> =>
      redoEach(exit, calls.length) ? Effect.forEach(calls, (call) => Effect.exit(statement([call]))) : Effect.succeed(calls.map(() => exit))
    )
  )
  return (agentId: string, files: Written["files"]): Effect.Effect<void, SqlError> => (files.length === 0 ? Effect.void : Effect.flatten(batch({ agentId, files })))
}
