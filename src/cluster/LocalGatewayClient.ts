import { Context } from "effect"
import type { GatewayClientShape } from "../gateway/GatewayClient.ts"

/**
 * This runner's own gateway client: the sockets it holds. Only the owner of a gateway calls it
 * for that gateway (the `Call` handler of the gateway entity, and everything on the owner through
 * the forwarding `GatewayClient`), so a gateway has one socket in the cluster (docs/architecture.md "Cluster").
 */
export class LocalGatewayClient extends Context.Tag("switchyard/LocalGatewayClient")<LocalGatewayClient, GatewayClientShape>() {}
