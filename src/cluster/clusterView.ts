import { RunnerStorage, ShardingConfig } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Effect, HashRing } from "effect"
import { addressText, GatewayOwnership } from "./GatewayOwnership.ts"

/** `GET /api/v1/cluster` on the wire: this runner, every registered runner and each gateway's owner. */
export interface ClusterView {
  /** The answering instance's runner address, `host:port`. */
  readonly self: string
  readonly runners: ReadonlyArray<{ readonly address: string; readonly healthy: boolean; readonly shards: number }>
  /** Each stored gateway and the runner its shard is assigned to (null: no healthy runner). */
  readonly gateways: ReadonlyArray<{ readonly gateway_id: string; readonly runner: string | null }>
}

/**
 * Who owns what, as every runner computes it: the runners registered in the engine's storage,
 * and the shard assignment the engine derives from the healthy ones (its hash ring over
 * `shardsPerGroup` shards), so every instance answers the same (docs/operations.md "Cluster").
 * Errors: the engine's PersistenceError, SqlError.
 */
export const clusterView = Effect.gen(function* () {
  const storage = yield* RunnerStorage.RunnerStorage
  const config = yield* ShardingConfig.ShardingConfig
  const ownership = yield* GatewayOwnership
  const sql = yield* SqlClient.SqlClient
  const runners = yield* storage.getRunners
  const rings = new Map<string, HashRing.HashRing<(typeof runners)[number][0]["address"]>>()
  for (const [runner, healthy] of runners) {
    if (!healthy) continue
    for (const group of runner.groups) {
      const ring = rings.get(group) ?? HashRing.make()
      HashRing.add(ring, runner.address, { weight: runner.weight })
      rings.set(group, ring)
    }
  }
  // Shard `group:n` → runner, as the engine assigns them.
  const assigned = new Map<string, string>()
  for (const [group, ring] of rings) {
    const shards = HashRing.getShards(ring, config.shardsPerGroup) ?? []
    shards.forEach((address, index) => assigned.set(`${group}:${index + 1}`, addressText(address)))
  }
  const shardCounts = new Map<string, number>()
  for (const address of assigned.values()) shardCounts.set(address, (shardCounts.get(address) ?? 0) + 1)
  const gateways = yield* sql<{ id: string }>`select id from gateways order by created_at, id`
  return {
    self: ownership.self,
    runners: runners
      .map(([runner, healthy]) => ({ address: addressText(runner.address), healthy, shards: shardCounts.get(addressText(runner.address)) ?? 0 }))
      .sort((a, b) => a.address.localeCompare(b.address)),
    gateways: gateways.map((gateway) => ({ gateway_id: gateway.id, runner: assigned.get(ownership.shardOf(gateway.id).toString()) ?? null }))
  } satisfies ClusterView
})
