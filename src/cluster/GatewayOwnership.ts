import { EntityId, ShardId, Sharding, ShardingConfig } from "@effect/cluster"
import { Context, Effect, Layer, Option } from "effect"
import { GatewayEntity } from "./GatewayEntity.ts"

export interface GatewayOwnershipShape {
  /** Whether this runner holds the shard lock of the gateway's shard, so it is the gateway's one owner now. */
  readonly owns: (gatewayId: string) => boolean
  /** The gateway's shard (`group:n`). */
  readonly shardOf: (gatewayId: string) => ShardId.ShardId
  /** Shards whose lock this runner holds now. */
  readonly ownedShards: () => number
  /** The set of shards this runner holds now, as a key (`group:n,…`): it changes at every takeover, also one that swaps shards one for one. */
  readonly ownedShardsKey: () => string
  /** This runner's address, `host:port`, as every runner writes it. */
  readonly self: string
  readonly shardsPerGroup: number
}

/**
 * Which gateways this runner owns: the gateway's shard (by gateway id) is one this runner holds
 * the lock of (docs/architecture.md "Cluster"). Per-gateway background work runs only where
 * `owns` is true, so no job runs twice in the cluster.
 */
export class GatewayOwnership extends Context.Tag("switchyard/GatewayOwnership")<GatewayOwnership, GatewayOwnershipShape>() {}

export const addressText = (address: { readonly host: string; readonly port: number }) => `${address.host}:${address.port}`

export const GatewayOwnershipLive = Layer.effect(
  GatewayOwnership,
  Effect.gen(function* () {
    const sharding = yield* Sharding.Sharding
    const config = yield* ShardingConfig.ShardingConfig
    const shardOf = (gatewayId: string) => {
      const entityId = EntityId.make(gatewayId)
      return sharding.getShardId(entityId, GatewayEntity.getShardGroup(entityId))
    }
    const groups = config.assignedShardGroups
    /** The shards whose lock this runner holds now, as `group:n`. */
    const held = () => {
      const ids: Array<string> = []
      for (const group of groups) for (let shard = 1; shard <= config.shardsPerGroup; shard++) if (sharding.hasShardId(ShardId.make(group, shard))) ids.push(`${group}:${shard}`)
      return ids
    }
    return GatewayOwnership.of({
      owns: (gatewayId) => sharding.hasShardId(shardOf(gatewayId)),
      shardOf,
      ownedShards: () => held().length,
      ownedShardsKey: () => held().join(","),
      self: Option.match(config.runnerAddress, { onNone: () => "", onSome: addressText }),
      shardsPerGroup: config.shardsPerGroup
    })
  })
)
