import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

/** A managed workspace file as Switchyard last wrote it: sha256 hex of its content. */
export interface WrittenFile {
  readonly name: string
  readonly sha256: string
}

/** The last drift check of one agent's workspace: when, and which managed files differ (missing counts). */
export interface WorkspaceCheck {
  readonly checkedAt: Date
  readonly drifted: ReadonlyArray<string>
}

/** One agent's managed files, and the database time of the newest write among them (a check's basis). */
export interface ManagedWorkspace {
  readonly agentId: string
  readonly gatewayAgentId: string
  readonly files: ReadonlyArray<WrittenFile>
  readonly writtenUpTo: Date
}

export interface WorkspaceHashesShape {
  /**
   * Records files just written for the agent and clears them from its drift list (a rewrite
   * repairs drift), in one statement of its own (docs/architecture.md §5.2 step 6).
   */
  readonly recordWritten: (agentId: string, files: ReadonlyArray<WrittenFile>) => Effect.Effect<void, SqlError>
  /** The managed files of the gateway's live agents (agents with none are left out). */
  readonly managedOf: (gatewayId: string) => Effect.Effect<ReadonlyArray<ManagedWorkspace>, SqlError>
  /**
   * Stores a check's result for the agent, replacing the previous one, unless a file was written
   * after `writtenUpTo` (the check compared an older write; the next one decides). True if saved.
   */
  readonly saveCheck: (agentId: string, check: WorkspaceCheck, writtenUpTo: Date) => Effect.Effect<boolean, SqlError>
  /** The last check of each of `agentIds` that has one. */
  readonly checksOf: (agentIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, WorkspaceCheck>, SqlError>
}

/** Rows of (agent, file) in agent order, grouped per agent. */
const byAgent = (rows: ReadonlyArray<{ agentId: string; gatewayAgentId: string; name: string; sha256: string; writtenAt: Date }>) => {
  const agents = new Map<string, { agentId: string; gatewayAgentId: string; files: Array<WrittenFile>; writtenUpTo: Date }>()
  for (const row of rows) {
    const agent = agents.get(row.agentId) ?? { agentId: row.agentId, gatewayAgentId: row.gatewayAgentId, files: [], writtenUpTo: row.writtenAt }
    agent.files.push({ name: row.name, sha256: row.sha256 })
    if (row.writtenAt > agent.writtenUpTo) agent.writtenUpTo = row.writtenAt
    agents.set(row.agentId, agent)
  }
  return [...agents.values()]
}

/**
 * What Switchyard last wrote into each agent's workspace and what the last drift check found
 * (migration 0017; docs/operations.md §8 "Workspace drift").
 */
export class WorkspaceHashes extends Context.Tag("switchyard/WorkspaceHashes")<WorkspaceHashes, WorkspaceHashesShape>() {}

export const WorkspaceHashesLive = Layer.effect(
  WorkspaceHashes,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return WorkspaceHashes.of({
      // One statement (a data-modifying CTE runs atomically with its outer update): no transaction round trips.
      // Not shared with the applies that record meanwhile: a shared one lengthened each apply (§5.2 step 6).
      recordWritten: (agentId, files) =>
        files.length === 0
          ? Effect.void
          : sql`with written as (
                  insert into agent_workspace_files ${sql.insert(files.map((file) => ({ agentId, name: file.name, sha256: file.sha256 })))}
                  on conflict (agent_id, name) do update set sha256 = excluded.sha256, written_at = now()
                  returning 1
                )
                update agent_workspace_checks
                set drifted = coalesce((select jsonb_agg(n order by n) from jsonb_array_elements_text(drifted) n where n not in ${sql.in(files.map((file) => file.name))}), '[]'::jsonb)
                where agent_id = ${agentId}`.pipe(Effect.asVoid),
      managedOf: (gatewayId) =>
        sql<{ agentId: string; gatewayAgentId: string; name: string; sha256: string; writtenAt: Date }>`
          select f.agent_id, a.gateway_agent_id, f.name, f.sha256, f.written_at from agent_workspace_files f join agents a on a.id = f.agent_id
          where a.gateway_id = ${gatewayId} and a.deleted_at is null order by f.agent_id, f.name`.pipe(Effect.map(byAgent)),
      saveCheck: (agentId, check, writtenUpTo) =>
        sql<{ agentId: string }>`
          insert into agent_workspace_checks (agent_id, checked_at, drifted)
          select ${agentId}, ${check.checkedAt}, ${JSON.stringify(check.drifted)}::jsonb
          where not exists (select 1 from agent_workspace_files where agent_id = ${agentId} and date_trunc('milliseconds', written_at) > ${writtenUpTo})
          on conflict (agent_id) do update set checked_at = excluded.checked_at, drifted = excluded.drifted
          returning agent_id`.pipe(Effect.map((rows) => rows.length > 0)),
      checksOf: (agentIds) =>
        agentIds.length === 0
          ? Effect.succeed(new Map())
          : sql<{ agentId: string; checkedAt: Date; drifted: Array<string> }>`
              select agent_id, checked_at, drifted from agent_workspace_checks where agent_id in ${sql.in(agentIds)}`.pipe(
              Effect.map((rows) => new Map(rows.map((row) => [row.agentId, { checkedAt: row.checkedAt, drifted: row.drifted }])))
            )
    })
  })
)

/**
 * In memory, for tests without Postgres: the same answers, except that `managedOf` returns every
 * agent's files (tests hold one gateway) under the gateway agent id `mc-<agent id>`.
 */
export const WorkspaceHashesTest = Layer.sync(WorkspaceHashes, () => {
  const files = new Map<string, Map<string, { sha256: string; writtenAt: Date }>>()
  const checks = new Map<string, WorkspaceCheck>()
  return WorkspaceHashes.of({
    recordWritten: (agentId, written) =>
      Effect.sync(() => {
        const mine = files.get(agentId) ?? new Map<string, { sha256: string; writtenAt: Date }>()
        for (const file of written) mine.set(file.name, { sha256: file.sha256, writtenAt: new Date() })
        files.set(agentId, mine)
        const check = checks.get(agentId)
        if (check !== undefined) checks.set(agentId, { ...check, drifted: check.drifted.filter((name) => !written.some((file) => file.name === name)) })
      }),
    managedOf: () =>
      Effect.succeed(
        byAgent([...files].flatMap(([agentId, mine]) => [...mine].map(([name, file]) => ({ agentId, gatewayAgentId: `mc-${agentId}`, name, ...file }))))
      ),
    saveCheck: (agentId, check, writtenUpTo) =>
      Effect.sync(() => {
        if ([...(files.get(agentId)?.values() ?? [])].some((file) => file.writtenAt > writtenUpTo)) return false
        checks.set(agentId, check)
        return true
      }),
    checksOf: (agentIds) => Effect.succeed(new Map(agentIds.flatMap((id) => (checks.has(id) ? [[id, checks.get(id)!] as const] : []))))
  })
})
