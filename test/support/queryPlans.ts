import { SqlClient } from "@effect/sql"
import type { Statement } from "@effect/sql/Statement"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { expect } from "vitest"
import { AppConfigTest } from "../../src/config/AppConfig.ts"
import { type AgentRepo, AgentRepoLive } from "../../src/store/AgentRepo.ts"
import { SqlLive } from "../../src/database/Database.ts"

/** One node of a Postgres plan (`EXPLAIN (FORMAT JSON)`), with the fields these checks read. */
export interface PlanNode {
  readonly "Node Type": string
  readonly "Relation Name"?: string
  readonly "Index Name"?: string
  readonly Plans?: ReadonlyArray<PlanNode>
}

const nodesOf = (node: PlanNode): Array<PlanNode> => [node, ...(node.Plans ?? []).flatMap(nodesOf)]

/** A statement built on the SQL client, as the repositories build theirs. */
export type BuildStatement = (sql: SqlClient.SqlClient) => Statement<unknown>

/** Every node of `build`'s plan, and its execution time (EXPLAIN ANALYZE), ms. */
export const explain = <E>(store: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, E>, build: BuildStatement) =>
  store.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<Record<string, unknown>>`explain (analyze, format json) ${build(sql)}`
      // One column, "QUERY PLAN", holding a one-element JSON array.
      const plan = (Object.values(row!)[0] as ReadonlyArray<{ Plan: PlanNode; "Execution Time": number }>)[0]!
      return { nodes: nodesOf(plan.Plan), ms: plan["Execution Time"] }
    })
  )

/**
 * Checks that `build`'s plan reads one of `indexes` and never scans the agents table (and, with
 * `noSort`, never sorts); prints its time as a `[measure]` line. Returns the plan's nodes.
 */
export const expectIndexRead = async <E>(
  store: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, E>,
  name: string,
  build: BuildStatement,
  indexes: ReadonlyArray<string>,
  options: { readonly noSort?: boolean } = {}
) => {
  const { nodes, ms } = await explain(store, build)
  console.log(`[measure] ${name}: ${ms.toFixed(2)} ms (${nodes.map((node) => node["Node Type"] + (node["Index Name"] ? ` ${node["Index Name"]}` : "")).join(" > ")})`)
  expect(nodes.filter((node) => node["Node Type"] === "Seq Scan" && node["Relation Name"] === "agents")).toEqual([])
  if (options.noSort === true) expect(nodes.map((node) => node["Node Type"])).not.toContain("Sort")
  expect(nodes.some((node) => indexes.includes(node["Index Name"] ?? ""))).toBe(true)
  return nodes
}

/** The policy of the cloned fleets these plan tests query (only stored, never run). */
export const PLAN_TEST_POLICY = { offlineAfterMs: 600_000, checkinTimeoutMs: 30_000, maxWakeAttempts: 3, maxAttempts: 5, retryBaseMs: 2_000 }

/** The SQL client and `AgentRepo` on the database at `url`, for explaining the repository's own statements. */
export const agentRepoRuntime = (url: string): ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | AgentRepo, unknown> =>
  ManagedRuntime.make(AgentRepoLive.pipe(Layer.provideMerge(SqlLive), Layer.provide(AppConfigTest({ databaseUrl: Option.some(Redacted.make(url)) }))))
